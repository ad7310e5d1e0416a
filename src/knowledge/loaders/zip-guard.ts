// Zip bombs stop here, before mammoth inflates anything: the central directory's sizes are checked
// first (cheap), then every part mammoth will read is inflated once with a running count, since
// headers can lie, and its XML nesting is scanned. Media and embedded objects are never inflated
// (the loaders skip images and do not open embedded files), so a nested zip costs nothing.
import yauzl from "yauzl";
import { StrataError } from "../../core/errors.js";
import { checkMarkupDepth, overLimit, type ParseLimits } from "./parse-limits.js";

/** Members that carry no text and are never inflated. */
const SKIPPED = /^(word\/media\/|word\/embeddings\/|customXml\/|docProps\/thumbnail)/;
/** Most members a DOCX may list; Word writes a few dozen. */
const MAX_MEMBERS = 10_000;

function corrupt(why: string): StrataError {
  return new StrataError("PARSE_FAILED", `DOCX could not be read: ${why.slice(0, 200)}`, "open and re-save the document in Word or LibreOffice; the file may be damaged or not a .docx");
}

/** Throws PARSE_LIMIT or PARSE_FAILED when the archive is over a limit or malformed. */
export async function guardZip(bytes: Uint8Array, limits: ParseLimits): Promise<void> {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.fromBuffer(buffer, { lazyEntries: true, validateEntrySizes: true, strictFileNames: false }, (err, z) => (err || !z ? reject(corrupt(err?.message ?? "no archive")) : resolve(z))),
  );
  const entries: yauzl.Entry[] = [];
  const names = new Set<string>();
  let declared = 0;
  // Pass 1: the central directory only — declared sizes, duplicates, member count.
  await new Promise<void>((resolve, reject) => {
    zip.on("error", (e: Error) => reject(e instanceof StrataError ? e : corrupt(e.message)));
    zip.on("end", () => resolve());
    zip.on("entry", (e: yauzl.Entry) => {
      try {
        if (entries.length >= MAX_MEMBERS) throw corrupt(`more than ${MAX_MEMBERS} members`);
        if (names.has(e.fileName)) throw corrupt(`the member ${e.fileName} appears twice`);
        names.add(e.fileName);
        if (!SKIPPED.test(e.fileName) && !e.fileName.endsWith("/")) {
          if (e.uncompressedSize > limits.maxInflatedBytes) throw overLimit("maxInflatedBytes", e.uncompressedSize, limits.maxInflatedBytes, false, e.fileName);
          declared += e.uncompressedSize;
          if (declared > limits.maxArchiveBytes) throw overLimit("maxArchiveBytes", declared, limits.maxArchiveBytes);
          entries.push(e);
        }
        zip.readEntry();
      } catch (err) {
        zip.close();
        reject(err);
      }
    });
    zip.readEntry();
  });
  // Pass 2: inflate what will be read, counting; the header said it was small, the bytes must agree.
  let inflated = 0;
  for (const e of entries) {
    const data = await inflate(zip, e, limits, () => inflated);
    inflated += data.length;
    if (/\.(xml|rels)$/i.test(e.fileName)) checkMarkupDepth(data.toString("utf8"), limits.maxDepth);
  }
}

function inflate(zip: yauzl.ZipFile, e: yauzl.Entry, limits: ParseLimits, before: () => number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(e, (err, stream) => {
      if (err || !stream) return reject(corrupt(err?.message ?? `cannot read ${e.fileName}`));
      const parts: Buffer[] = [];
      let n = 0;
      stream.on("data", (chunk: Buffer) => {
        n += chunk.length;
        const over = n > limits.maxInflatedBytes ? overLimit("maxInflatedBytes", n, limits.maxInflatedBytes, true, e.fileName) : before() + n > limits.maxArchiveBytes ? overLimit("maxArchiveBytes", before() + n, limits.maxArchiveBytes, true) : undefined;
        if (over) {
          stream.destroy();
          reject(over);
        } else parts.push(chunk);
      });
      stream.on("error", (x: Error) => reject(corrupt(x.message)));
      stream.on("end", () => resolve(Buffer.concat(parts)));
    });
  });
}
