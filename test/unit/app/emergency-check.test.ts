// Which emergency targets `callbridge start` puts in force, where each came from, and the refusal to run on
// the placeholder numbers the shipped routing.yaml carries (an emergency would ring nobody).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeEmergencyTargets, emergencyTargetsInForce, placeholderProblems, SHIPPED_EMERGENCY_PLACEHOLDERS } from '../../../src/app/emergency-check.ts';
import { loadRoutingFile } from '../../../src/app/routing-file.ts';
import type { Config } from '../../../src/app/config.ts';
import type { RoutingConfig } from '../../../src/core/routing/schema.ts';

const SHIPPED_FILE = join(import.meta.dirname, '..', '..', '..', 'dialplan', 'routing.yaml');

async function shippedRouting(): Promise<RoutingConfig> {
  const loaded = await loadRoutingFile(SHIPPED_FILE);
  if (!loaded.ok) throw new Error(`the shipped routing file is invalid: ${JSON.stringify(loaded.errors)}`);
  return loaded.config;
}

const unset: Config['emergency'] = { transferNumber: undefined, managerExtension: undefined, notifySms: [] };
const real: Config['emergency'] = { transferNumber: '+19195551234', managerExtension: '204', notifySms: ['+19195554321'] };

describe('emergency targets at start', () => {
  it('knows the placeholders the shipped routing.yaml really carries', async () => {
    const { emergency } = await shippedRouting();
    expect(emergency.target.number).toBe(SHIPPED_EMERGENCY_PLACEHOLDERS.transferNumber);
    expect(emergency.manager_extension).toBe(SHIPPED_EMERGENCY_PLACEHOLDERS.managerExtension);
    expect(emergency.sms_alerts).toEqual(SHIPPED_EMERGENCY_PLACEHOLDERS.notifySms);
    // The comments next to them name the variables the refusal names.
    const text = await readFile(SHIPPED_FILE, 'utf8');
    for (const name of ['EMERGENCY_TRANSFER_NUMBER', 'EMERGENCY_MANAGER_EXTENSION', 'EMERGENCY_NOTIFICATION_SMS']) expect(text).toContain(name);
  });

  it('refuses the shipped placeholders, naming each variable to set', async () => {
    const inForce = emergencyTargetsInForce(unset, (await shippedRouting()).emergency);
    expect(inForce.transferNumber).toMatchObject({ value: '+17045550911', source: 'routing.yaml emergency.target.number' });
    const problems = placeholderProblems(inForce);
    expect(problems.map((p) => p.split(':')[0])).toEqual(['EMERGENCY_TRANSFER_NUMBER', 'EMERGENCY_MANAGER_EXTENSION', 'EMERGENCY_NOTIFICATION_SMS']);
    for (const problem of problems) {
      expect(problem).toContain('placeholder');
      // Masked even here: these lines reach the terminal and the container log.
      expect(problem).not.toMatch(/\d{7}/);
    }
    expect(problems[0]).toContain('***0911');
  });

  it('accepts the environment\'s values over the file, and says where each came from', async () => {
    const inForce = emergencyTargetsInForce(real, (await shippedRouting()).emergency);
    expect(placeholderProblems(inForce)).toEqual([]);
    const described = describeEmergencyTargets(inForce);
    expect(described.fromRoutingFile).toBe(false);
    expect(described.text).toBe(
      'emergency line ***1234 (EMERGENCY_TRANSFER_NUMBER), manager extension 204 (EMERGENCY_MANAGER_EXTENSION), ' +
        'SMS alerts ***4321 (EMERGENCY_NOTIFICATION_SMS)',
    );
    expect(JSON.stringify(described)).not.toMatch(/5551234|5554321/);
  });

  it('takes each unset variable from the file on its own, and refuses only what is still a placeholder', async () => {
    const routing = (await shippedRouting()).emergency;
    const partly = emergencyTargetsInForce({ ...unset, transferNumber: '+19195551234' }, routing);
    expect(placeholderProblems(partly).map((p) => p.split(':')[0])).toEqual(['EMERGENCY_MANAGER_EXTENSION', 'EMERGENCY_NOTIFICATION_SMS']);
    const described = describeEmergencyTargets(partly);
    expect(described.fromRoutingFile).toBe(true);
    expect(described.text).toContain('SMS alerts ***0170, ***0171 (routing.yaml emergency.sms_alerts)');

    // An admin who put the real contacts in the routing file instead of the environment is fine too.
    const edited = { ...routing, target: { number: '+19195551234', via: 'threecx' as const }, manager_extension: '204', sms_alerts: ['+19195554321'] };
    expect(placeholderProblems(emergencyTargetsInForce(unset, edited))).toEqual([]);
  });

  it('refuses a placeholder number even when the environment sets it (copied from the docs)', async () => {
    const copied = emergencyTargetsInForce({ ...real, transferNumber: '+17045550911', notifySms: ['+19195554321', '+17045550171'] }, (await shippedRouting()).emergency);
    expect(placeholderProblems(copied).map((p) => p.split(':')[0])).toEqual(['EMERGENCY_TRANSFER_NUMBER', 'EMERGENCY_NOTIFICATION_SMS']);
    // Extension 110 is an ordinary extension: set on purpose in the environment, it stands.
    expect(placeholderProblems(emergencyTargetsInForce({ ...real, managerExtension: '110' }, (await shippedRouting()).emergency))).toEqual([]);
  });
});
