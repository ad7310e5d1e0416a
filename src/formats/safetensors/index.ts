// safetensors read/write (https://huggingface.co/docs/safetensors): F32, F16 and BF16 tensors
// (F64 read too), `__metadata__` strings, hostile files refused before anything is allocated.
export {
  FLOAT_DTYPES,
  MAX_HEADER_BYTES,
  SAFETENSORS_DTYPE_BYTES,
  type FloatDtype,
  type SafetensorsDtype,
  type SafetensorsEntry,
  type SafetensorsHeader,
  type WritableDtype,
} from "./header.js";
export { decodeSafetensors, openSafetensors, readSafetensors, type SafetensorsFile, type SafetensorsTensor } from "./reader.js";
export { encodeSafetensors, writeSafetensors, type SafetensorsTensorInput, type SafetensorsWriteOptions } from "./writer.js";
