// Who an emergency reaches, as `callbridge start` puts it in force, and where each value came from. Each
// EMERGENCY_* variable that is unset falls back to routing.yaml's `emergency` section, and the shipped file
// carries placeholder numbers there (they only document the shape). A controller running on them would ring
// and text nobody in an emergency without anyone noticing, so production start says what is in force and
// refuses the placeholders, naming the variable to set. Numbers are masked everywhere here: these lines
// reach the terminal and the container log.
import type { RoutingConfig } from '../core/routing/schema.ts';
import type { Config } from './config.ts';
import { maskPhoneNumber } from './logger.ts';

/** The placeholders in the shipped dialplan/routing.yaml (a unit test keeps them in step with the file). */
export const SHIPPED_EMERGENCY_PLACEHOLDERS = {
  transferNumber: '+17045550911',
  managerExtension: '110',
  notifySms: ['+17045550170', '+17045550171'],
} as const;

export interface EmergencySetting<T> {
  value: T;
  /** The variable operators set it with (what a refusal names). */
  variable: string;
  /** Where the value in force came from: the variable itself, or the routing file key it fell back to. */
  source: string;
  fromEnvironment: boolean;
}

export interface EmergencyTargetsInForce {
  transferNumber: EmergencySetting<string>;
  managerExtension: EmergencySetting<string>;
  notifySms: EmergencySetting<readonly string[]>;
}

function setting<T>(variable: string, fileKey: string, fromEnv: T | undefined, fromFile: T): EmergencySetting<T> {
  return fromEnv === undefined
    ? { value: fromFile, variable, source: `routing.yaml ${fileKey}`, fromEnvironment: false }
    : { value: fromEnv, variable, source: variable, fromEnvironment: true };
}

/** The same precedence the call path uses (call-wiring's emergencyTargets, the controller's staff numbers). */
export function emergencyTargetsInForce(env: Config['emergency'], file: RoutingConfig['emergency']): EmergencyTargetsInForce {
  return {
    transferNumber: setting('EMERGENCY_TRANSFER_NUMBER', 'emergency.target.number', env.transferNumber, file.target.number),
    managerExtension: setting('EMERGENCY_MANAGER_EXTENSION', 'emergency.manager_extension', env.managerExtension, file.manager_extension),
    notifySms: setting('EMERGENCY_NOTIFICATION_SMS', 'emergency.sms_alerts', env.notifySms.length > 0 ? env.notifySms : undefined, file.sms_alerts),
  };
}

const PLACEHOLDER_NUMBERS: ReadonlySet<string> = new Set([SHIPPED_EMERGENCY_PLACEHOLDERS.transferNumber, ...SHIPPED_EMERGENCY_PLACEHOLDERS.notifySms]);

function origin(s: EmergencySetting<unknown>, verb: string): string {
  return s.fromEnvironment ? verb : `not set, and ${s.source} ${verb}`;
}

/**
 * One line per variable whose value in force is a shipped placeholder, as ConfigError problems
 * ("NAME: why"). The placeholder numbers are refused wherever they come from (copied from the docs into the
 * environment, they still ring nobody); extension 110 is an ordinary extension, refused only as the file's
 * untouched fallback.
 */
export function placeholderProblems(inForce: EmergencyTargetsInForce): string[] {
  const problems: string[] = [];
  const { transferNumber, managerExtension, notifySms } = inForce;
  if (PLACEHOLDER_NUMBERS.has(transferNumber.value)) {
    problems.push(
      `${transferNumber.variable}: ${origin(transferNumber, 'is')} the shipped placeholder ${maskPhoneNumber(transferNumber.value)}: ` +
        'an emergency would ring nobody. Set it to the on-call line (E.164), or put the real number in the routing file',
    );
  }
  if (!managerExtension.fromEnvironment && managerExtension.value === SHIPPED_EMERGENCY_PLACEHOLDERS.managerExtension) {
    problems.push(
      `${managerExtension.variable}: ${origin(managerExtension, 'is')} the shipped placeholder ${managerExtension.value}: ` +
        `set it to the practice manager's 3CX extension (even if that is ${managerExtension.value})`,
    );
  }
  const fake = notifySms.value.filter((n) => PLACEHOLDER_NUMBERS.has(n));
  if (fake.length > 0) {
    problems.push(
      `${notifySms.variable}: ${origin(notifySms, 'holds')} the shipped placeholder(s) ${fake.map(maskPhoneNumber).join(', ')}: ` +
        'emergency texts would reach nobody. Set it to the staff mobiles (comma-separated E.164)',
    );
  }
  return problems;
}

/** What start logs: masked values with their origin, and whether anything fell back to the routing file. */
export function describeEmergencyTargets(inForce: EmergencyTargetsInForce): {
  text: string;
  fromRoutingFile: boolean;
  targets: Record<'emergencyLine' | 'managerExtension' | 'smsAlerts', { masked: string; source: string }>;
} {
  const { transferNumber, managerExtension, notifySms } = inForce;
  // `source`, not `from`: the logger masks values under phone-ish keys such as `from` whole.
  const targets = {
    emergencyLine: { masked: maskPhoneNumber(transferNumber.value), source: transferNumber.source },
    // An internal 3CX extension, not a phone number: shown as it is so the operator can check it.
    managerExtension: { masked: managerExtension.value, source: managerExtension.source },
    smsAlerts: { masked: notifySms.value.map(maskPhoneNumber).join(', '), source: notifySms.source },
  };
  return {
    text:
      `emergency line ${targets.emergencyLine.masked} (${targets.emergencyLine.source}), ` +
      `manager extension ${targets.managerExtension.masked} (${targets.managerExtension.source}), ` +
      `SMS alerts ${targets.smsAlerts.masked} (${targets.smsAlerts.source})`,
    fromRoutingFile: !(transferNumber.fromEnvironment && managerExtension.fromEnvironment && notifySms.fromEnvironment),
    targets,
  };
}
