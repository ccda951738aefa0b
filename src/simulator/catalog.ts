// Facts read off the recorded traces: where FreeSWITCH 1.10.12 raises each channel event (the
// Event-Calling-* headers) and whether the event carries the channel variables (variable_*).
import type { CallSite } from './core.ts';

export interface EventKind extends CallSite {
  readonly vars: boolean;
}

function k(file: string, func: string, line: number, vars: boolean): EventKind {
  return { file, func, line, vars };
}

const SC = 'switch_channel.c';
const SCS = 'switch_core_session.c';
const SSM = 'switch_core_state_machine.c';

export const EVENT_KINDS = {
  CHANNEL_STATE: k(SC, 'switch_channel_perform_set_running_state', 2408, false),
  CHANNEL_CALLSTATE: k(SC, 'switch_channel_perform_set_callstate', 301, false),
  CHANNEL_CREATE: k(SSM, 'switch_core_session_run', 626, true),
  CHANNEL_ORIGINATE: k(SSM, 'switch_core_session_run', 632, true),
  CHANNEL_OUTGOING: k(SCS, 'switch_core_session_outgoing_channel', 768, false),
  CHANNEL_ANSWER: k(SC, 'switch_channel_perform_mark_answered', 3846, true),
  CHANNEL_PROGRESS: k(SC, 'switch_channel_perform_mark_ring_ready_value', 3505, true),
  CHANNEL_PROGRESS_MEDIA: k(SC, 'switch_channel_perform_mark_pre_answered', 3560, true),
  CHANNEL_EXECUTE: k(SCS, 'switch_core_session_exec', 2944, true),
  CHANNEL_EXECUTE_COMPLETE: k(SCS, 'switch_core_session_exec', 2967, true),
  CHANNEL_HANGUP: k(SC, 'switch_channel_perform_hangup', 3445, true),
  CHANNEL_HANGUP_COMPLETE: k(SSM, 'switch_core_session_reporting_state', 943, true),
  CHANNEL_DESTROY: k(SCS, 'switch_core_session_perform_destroy', 1584, true),
  CHANNEL_PARK: k('switch_ivr.c', 'switch_ivr_park', 1002, true),
  CHANNEL_UNPARK: k('switch_ivr.c', 'switch_ivr_park', 1213, true),
  CHANNEL_BRIDGE: k('switch_ivr_bridge.c', 'switch_ivr_multi_threaded_bridge', 1689, true),
  CHANNEL_UNBRIDGE: k('switch_ivr_bridge.c', 'switch_ivr_multi_threaded_bridge', 1879, true),
  CHANNEL_HOLD: k('switch_ivr.c', 'switch_ivr_hold', 1558, true),
  CHANNEL_UNHOLD: k('switch_ivr.c', 'switch_ivr_unhold', 1638, true),
  CHANNEL_DATA: k('mod_event_socket.c', 'parse_command', 0, true),
  CALL_UPDATE: k('switch_channel.c', 'switch_channel_flip_cid', 3277, true),
  CODEC_READ_REAL: k('switch_core_codec.c', 'switch_core_session_set_real_read_codec', 168, false),
  CODEC_READ: k('switch_core_codec.c', 'switch_core_session_set_read_codec', 279, false),
  CODEC_WRITE: k('switch_core_codec.c', 'switch_core_session_set_write_codec', 450, false),
  PLAYBACK_START: k('switch_ivr_play_say.c', 'switch_ivr_play_file', 1646, true),
  PLAYBACK_STOP: k('switch_ivr_play_say.c', 'switch_ivr_play_file', 2020, true),
  RECORD_START: k('switch_ivr_async.c', 'record_callback', 1481, true),
  RECORD_STOP: k('switch_ivr_async.c', 'send_record_stop_event', 1240, true),
  MEDIA_BUG_START: k('switch_core_media_bug.c', 'switch_core_media_bug_add', 1014, true),
  MEDIA_BUG_STOP: k('switch_core_media_bug.c', 'switch_core_media_bug_destroy', 84, true),
  DTMF: k(SC, 'switch_channel_dequeue_dtmf', 677, false),
  PRIVATE_COMMAND: k('switch_ivr.c', 'switch_ivr_parse_next_event', 804, false),
  COMMAND: k('switch_ivr.c', 'switch_ivr_parse_next_event', 804, false),
  CUSTOM_MODULE: k('mod_event_socket.c', 'parse_command', 2275, true),
} as const satisfies Record<string, EventKind>;

export const SITE_API: CallSite = { file: 'switch_loadable_module.c', func: 'switch_api_execute', line: 2954 };
export const SITE_BGJOB: CallSite = { file: 'mod_event_socket.c', func: 'api_exec', line: 1572 };
export const SITE_HEARTBEAT: CallSite = { file: 'switch_core.c', func: 'send_heartbeat', line: 95 };
export const SITE_SCHEDULE: CallSite = { file: 'switch_scheduler.c', func: 'switch_scheduler_execute', line: 73 };
export const SITE_SENDEVENT: CallSite = { file: 'mod_event_socket.c', func: 'parse_command', line: 2275 };

/** Channel states and their numbers (Channel-State-Number). */
export const STATE_NUMBERS: Record<string, number> = {
  CS_NEW: 0,
  CS_INIT: 1,
  CS_ROUTING: 2,
  CS_SOFT_EXECUTE: 3,
  CS_EXECUTE: 4,
  CS_EXCHANGE_MEDIA: 5,
  CS_PARK: 6,
  CS_CONSUME_MEDIA: 7,
  CS_HIBERNATE: 8,
  CS_RESET: 9,
  CS_HANGUP: 10,
  CS_REPORTING: 11,
  CS_DESTROY: 12,
  CS_NONE: 13,
};

/** The set `myevents` subscribes an outbound/inbound connection to (the session's own events only). */
export const MYEVENTS = new Set([
  'CHANNEL_ANSWER',
  'CHANNEL_APPLICATION',
  'CHANNEL_BRIDGE',
  'CHANNEL_CREATE',
  'CHANNEL_DATA',
  'CHANNEL_DESTROY',
  'CHANNEL_EXECUTE',
  'CHANNEL_EXECUTE_COMPLETE',
  'CHANNEL_HANGUP',
  'CHANNEL_HANGUP_COMPLETE',
  'CHANNEL_ORIGINATE',
  'CHANNEL_UUID',
  'CHANNEL_OUTGOING',
  'CHANNEL_PARK',
  'CHANNEL_PROGRESS',
  'CHANNEL_PROGRESS_MEDIA',
  'CHANNEL_STATE',
  'CHANNEL_UNBRIDGE',
  'CHANNEL_UNPARK',
  'DETECTED_SPEECH',
  'DTMF',
  'NOTALK',
  'TALK',
]);

/** Event names `event` accepts (an unknown name is ignored; only unknown names → -ERR no keywords). */
export const KNOWN_EVENTS = new Set([
  ...MYEVENTS,
  'CUSTOM', 'CLONE', 'CHANNEL_CALLSTATE', 'CHANNEL_HOLD', 'CHANNEL_UNHOLD', 'CALL_UPDATE', 'CODEC',
  'BACKGROUND_JOB', 'API', 'LOG', 'INBOUND_CHAN', 'OUTBOUND_CHAN', 'STARTUP', 'SHUTDOWN', 'PUBLISH',
  'UNPUBLISH', 'PRESENCE_IN', 'PRESENCE_OUT', 'PRESENCE_PROBE', 'MESSAGE_WAITING', 'MESSAGE_QUERY',
  'ROSTER', 'RECV_MESSAGE', 'SEND_MESSAGE', 'REQUEST_PARAMS', 'CHANNEL_SET_VARIABLE', 'EXE_SCHEDULE',
  'RE_SCHEDULE', 'RELOADXML', 'NOTIFY', 'PHONE_FEATURE', 'PHONE_FEATURE_SUBSCRIBE', 'SEND_INFO', 'RECV_INFO',
  'RECV_RTCP_MESSAGE', 'CALL_SECURE', 'NAT', 'RECORD_START', 'RECORD_STOP', 'PLAYBACK_START', 'PLAYBACK_STOP',
  'CALL_DETAIL', 'DEVICE_STATE', 'TEXT', 'SHUTDOWN_REQUESTED', 'ALL', 'HEARTBEAT', 'SESSION_HEARTBEAT',
  'MODULE_LOAD', 'MODULE_UNLOAD', 'DEL_SCHEDULE', 'GENERAL', 'COMMAND', 'PRIVATE_COMMAND', 'MESSAGE',
  'MEDIA_BUG_START', 'MEDIA_BUG_STOP', 'CONFERENCE_DATA_QUERY', 'CONFERENCE_DATA', 'CALL_SETUP_REQ',
  'CALL_SETUP_RESULT', 'FAILURE', 'SOCKET_DATA', 'TRAP', 'ADD_SCHEDULE', 'RECV_MESSAGE', 'SERVER_DISCONNECTED',
]);
