// One way to say a GGUF file is wrong: GGUF_INVALID naming the file, what is wrong and where.
import { StrataError } from "../../core/errors.js";

const HINT = "the file is damaged or not a GGUF v3 model: download or export it again";

export function ggufInvalid(source: string, message: string, hint = HINT): StrataError {
  return new StrataError("GGUF_INVALID", `${source}: ${message}`, hint);
}
