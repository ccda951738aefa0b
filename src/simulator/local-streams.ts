// mod_local_stream as the simulator knows it (FreeSWITCH 1.10 sources): the streams started from
// local_stream.conf, how a `local_stream://<name>` playback finds its stream, and the `local_stream` API.
// No stream configured means the module did not load (mod_local_stream refuses to load without one), so the
// API does not exist and every local_stream:// playback fails to open, as on a real switch.

/** One `<directory>` of local_stream.conf.xml, its path variables expanded. */
export interface LocalStreamConfig {
  name: string;
  /** The directory whose files the stream plays. */
  location: string;
  rate?: number;
  channels?: number;
  /** Frame length in ms. */
  interval?: number;
  shuffle?: boolean;
  timerName?: string;
}

/**
 * The streams of the project's freeswitch/autoload_configs/local_stream.conf.xml, as FreeSWITCH started with
 * `-conf /etc/callbridge/freeswitch` (docker-compose.yml) has them. test/unit/freeswitch-config.test.ts
 * keeps this list in step with the XML.
 */
export const SHIPPED_LOCAL_STREAMS: readonly LocalStreamConfig[] = [
  { name: 'moh', location: '/etc/callbridge/freeswitch/music/moh', rate: 8000, channels: 1, interval: 20, shuffle: false, timerName: 'soft' },
];

/** mod_local_stream's defaults for what a `<directory>` leaves out. */
const DEFAULT_PREBUF = 65536;

interface Source {
  readonly config: Required<LocalStreamConfig>;
  /** Channels playing the stream right now (`total` in `local_stream show`). */
  listeners: number;
}

export class LocalStreams {
  readonly #sources = new Map<string, Source>();

  constructor(configs: readonly LocalStreamConfig[]) {
    for (const c of configs) {
      this.#sources.set(c.name, {
        config: { rate: 8000, channels: 1, interval: 20, shuffle: false, timerName: 'soft', ...c },
        listeners: 0,
      });
    }
  }

  /** mod_local_stream loads only when its configuration defines at least one stream. */
  get loaded(): boolean {
    return this.#sources.size > 0;
  }

  /**
   * Opens `local_stream://<name>` for a channel at `rate` Hz as local_stream_file_open does: the stream
   * `<name>/<rate>`, else `<name>`, else `default`. Undefined when none exists: the file cannot be opened.
   * Call the result when the playback ends.
   */
  open(name: string, rate: number): (() => void) | undefined {
    const source = this.#find(name, rate) ?? (/default/i.test(name) ? undefined : this.#find('default', rate));
    if (source === undefined) return undefined;
    source.listeners++;
    let open = true;
    return () => {
      if (open) source.listeners--;
      open = false;
    };
  }

  #find(name: string, rate: number): Source | undefined {
    return this.#sources.get(`${name}/${rate}`) ?? this.#sources.get(name);
  }

  /**
   * The `local_stream` API (`show` is what operators and the controller's checks use; the verbs that change a
   * stream answer nothing here). Undefined when the module is not loaded: the command does not exist.
   */
  command(args: readonly string[]): string | undefined {
    if (!this.loaded) return undefined;
    const [verb, name] = args;
    if (verb === undefined) return '-USAGE: <show|start|reload|stop|hup> <local_stream_name>\n';
    if (verb.toLowerCase() !== 'show') return '';
    if (name === undefined) return [...this.#sources.values()].map((s) => `${s.config.name},${s.config.location}\n`).join('');
    const source = this.#sources.get(name);
    if (source === undefined) return `-ERR Cannot locate local_stream ${name}!\n`;
    // `show <name> as xml` (four words) asks for XML, as the console's completion offers it.
    return args.length === 4 && args[3]?.toLowerCase() === 'xml' ? describeXml(source) : describeText(source);
  }
}

function fields(s: Source): Array<[string, string]> {
  const c = s.config;
  return [
    ['location', c.location],
    ['channels', String(c.channels)],
    ['rate', String(c.rate)],
    ['interval', String(c.interval)],
    ['samples', String((c.rate * c.interval) / 1000)],
    ['prebuf', String(DEFAULT_PREBUF)],
    ['timer', c.timerName],
    ['total', String(s.listeners)],
    ['shuffle', String(c.shuffle)],
    ['ready', 'true'],
    ['stopped', 'false'],
  ];
}

/** The plain form: values aligned after the longest short label, then `reloading`, as printed by 1.10. */
function describeText(s: Source): string {
  const lines = fields(s).map(([k, v]) => `  ${`${k}:`.padEnd(9)} ${v}\n`);
  return `${s.config.name}\n${lines.join('')}  reloading: false\n`;
}

/** The XML form, including FreeSWITCH's unclosed `<interval>` tag, exactly as it prints it. */
function describeXml(s: Source): string {
  const lines = fields(s).map(([k, v]) => (k === 'interval' ? `  <interval>${v}<interval>\n` : `  <${k}>${v}</${k}>\n`));
  return `<?xml version="1.0"?>\n<local_stream name="${s.config.name}">\n${lines.join('')}</local_stream>\n`;
}
