export {
  DEFAULT_CHUNK_SIZE,
  HEADER_SIZE,
  MasterKeys,
  decryptStream,
  encryptStream,
  inspectHeader,
  parseMasterKey,
  rewrapFile,
  rewrapHeader,
} from './envelope.ts';
export { LocalRecordingStorage, readHeadOf, type RecordingStorage } from './storage.ts';
export type { DecryptOptions, EncryptOptions, MasterKey, MasterKeysInput } from './envelope.ts';
