// Hostile inputs, made at test time (nothing large is committed): zip and gzip bombs, deep
// nesting, a huge single line, invalid UTF-8, truncated and mislabelled files. Each is small on
// disk and expands (or recurses) far past the default parse limits.
import { crc32, deflateRawSync, gzipSync } from "node:zlib";

interface Member {
  name: string;
  data: Buffer;
  /** Uncompressed size written in the headers; defaults to the truth. */
  claimSize?: number;
}

/** A zip (deflate) with the given members; `claimSize` lets a header lie. */
export function makeZip(members: Member[]): Buffer {
  const local: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const m of members) {
    const comp = deflateRawSync(m.data, { level: 9 });
    const name = Buffer.from(m.name);
    const crc = crc32(m.data) >>> 0;
    const size = m.claimSize ?? m.data.length;
    const h = Buffer.alloc(30);
    h.writeUInt32LE(0x04034b50, 0);
    h.writeUInt16LE(20, 4);
    h.writeUInt16LE(8, 8);
    h.writeUInt32LE(crc, 14);
    h.writeUInt32LE(comp.length, 18);
    h.writeUInt32LE(size, 22);
    h.writeUInt16LE(name.length, 26);
    local.push(h, name, comp);
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE(20, 4);
    c.writeUInt16LE(20, 6);
    c.writeUInt16LE(8, 10);
    c.writeUInt32LE(crc, 16);
    c.writeUInt32LE(comp.length, 20);
    c.writeUInt32LE(size, 24);
    c.writeUInt16LE(name.length, 28);
    c.writeUInt32LE(offset, 42);
    central.push(c, name);
    offset += 30 + name.length + comp.length;
  }
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(members.length, 8);
  end.writeUInt16LE(members.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...local, cd, end]);
}

const CONTENT_TYPES = Buffer.from(
  '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/>' +
    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
);
const RELS = Buffer.from(
  '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' +
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
);

function documentXml(body: string): Buffer {
  return Buffer.from(`<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>${body}</w:body></w:document>`);
}

export function makeDocx(body: string, extra: Member[] = [], claimSize?: number): Buffer {
  return makeZip([{ name: "[Content_Types].xml", data: CONTENT_TYPES }, { name: "_rels/.rels", data: RELS }, { name: "word/document.xml", data: documentXml(body), claimSize }, ...extra]);
}

const para = (text: string): string => `<w:p><w:r><w:t>${text}</w:t></w:r></w:p>`;

export const hostile = {
  /** document.xml inflates to `mib` MiB (default 200) from a few hundred KiB. */
  docxBomb: (mib = 200): Buffer => makeDocx(para("A".repeat(1000)).repeat(mib * 1024)),
  /** The same bomb whose headers claim document.xml is 1 KiB. */
  docxLyingBomb: (mib = 200): Buffer => makeDocx(para("A".repeat(1000)).repeat(mib * 1024), [], 1024),
  /** A readable DOCX carrying a bomb as an embedded zip (never inflated). */
  docxNestedZip: (mib = 100): Buffer => makeDocx(para("The embedded archive is not opened."), [{ name: "word/embeddings/inner.zip", data: makeZip([{ name: "x.txt", data: Buffer.alloc(mib * 1024 * 1024, 0x41) }]) }]),
  /** 100,000 nested runs in document.xml. */
  docxDeep: (): Buffer => makeDocx("<w:p>" + "<w:r>".repeat(100_000) + "</w:r>".repeat(100_000) + "</w:p>"),
  gzipBomb: (mib = 200): Buffer => gzipSync(Buffer.alloc(mib * 1024 * 1024, 0x61), { level: 9 }),
  deepHtml: (n = 100_000): string => "<html><body>" + "<div>".repeat(n) + "x" + "</div>".repeat(n) + "</body></html>",
  deepJson: (n = 100_000): string => "[".repeat(n) + "]".repeat(n),
  longLine: (bytes = 50 * 1024 * 1024): Buffer => Buffer.alloc(bytes, 0x61),
  invalidUtf8: (): Buffer => Buffer.concat([Buffer.from("# Notes\n\nprice: "), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from(" euro\n")]),
  truncatedDocx: (): Buffer => makeDocx(para("cut short")).subarray(0, 120),
  /** A PNG header and noise, named .md. */
  binaryAsMarkdown: (): Buffer => Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(4096, 0)]),
  /** A zip named .pdf. */
  zipAsPdf: (): Buffer => makeZip([{ name: "a.txt", data: Buffer.from("hello") }]),
};
