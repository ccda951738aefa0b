export {
  DEFAULT_CHUNK_SIZE,
  HEADER_SIZE,
  MasterKeys,
  decryptStream,
  encryptStream,
  parseMasterKey,
  rewrapFile,
  rewrapHeader,
} from './envelope.ts';
export type { EncryptOptions, MasterKey, MasterKeysInput } from './envelope.ts';
