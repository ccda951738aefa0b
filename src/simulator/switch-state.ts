// Facts about the simulated switch as a whole that an operator's check asks about: which modules are loaded
// (`module_exists`) and the global variables of vars.xml (`global_getvar`). Reply bodies as mod_commands
// writes them in 1.10: `module_exists` answers `true` or `false` and `global_getvar <name>` the bare value
// (an unset one is empty), both without a newline; `global_getvar` without a name dumps `name=value` lines.

/**
 * The modules freeswitch/autoload_configs/modules.conf.xml loads, in its order. A FreeSWITCH without one of them
 * (a build without mod_audio_fork, a mod_flite that failed to load) is `SimulatorOptions.modules` without it.
 */
export const SHIPPED_MODULES: readonly string[] = [
  'mod_console',
  'mod_logfile',
  'mod_event_socket',
  'mod_sofia',
  'mod_loopback',
  'mod_commands',
  'mod_dptools',
  'mod_audio_fork',
  'mod_dialplan_xml',
  'mod_sndfile',
  'mod_native_file',
  'mod_tone_stream',
  'mod_local_stream',
  'mod_say_en',
  'mod_flite',
];

/** API commands and the module that provides each; without the module the command does not exist. */
const API_MODULES: Record<string, string> = {
  sofia: 'mod_sofia',
  uuid_audio_fork: 'mod_audio_fork',
  local_stream: 'mod_local_stream',
};

export class SwitchState {
  readonly #modules: ReadonlySet<string>;
  readonly #globals: ReadonlyMap<string, string>;

  constructor(options: { modules: readonly string[]; globals: Readonly<Record<string, string>> }) {
    this.#modules = new Set(options.modules);
    this.#globals = new Map(Object.entries(options.globals));
  }

  hasModule(name: string): boolean {
    return this.#modules.has(name);
  }

  /** False when `command` belongs to a module that is not loaded (FreeSWITCH then says `Command not found!`). */
  provides(command: string): boolean {
    const module = API_MODULES[command];
    return module === undefined || this.#modules.has(module);
  }

  /** `module_exists <name>`; nothing at all without a name. */
  moduleExists(args: string): string {
    const name = args.trim();
    if (name === '') return '';
    return this.#modules.has(name) ? 'true' : 'false';
  }

  /** `global_getvar [name]`. */
  globalGetvar(args: string): string {
    const name = args.trim();
    if (name === '') return [...this.#globals].map(([k, v]) => `${k}=${v}\n`).join('');
    return this.#globals.get(name) ?? '';
  }
}
