// The hand-checked question set on the real documents of ../shared/data/documents (issue 14): each
// answerable question names the document and a piece of the sentence that answers it, checked by
// hand against the extracted text; the off-topic ones are answered by none of the documents. The
// embedded default must quote the answering sentence first and abstain on the rest.
import { test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { KnowledgeBase } from "../../../src/knowledge/knowledge-base.js";
import { sharedData } from "../../helpers/paths.js";

const DOCS = [
  "html/markitdown/test_wikipedia.html",
  "html/wikipedia/source.html",
  "html/v8-blog/source.html",
  "html/google-sre-book-1/source.html",
  "pdf/Tragedy-Of-The-Commons.pdf",
  "pdf/CC_License_Agreement_of_siMPle.pdf",
];

/** [question, the document's file name here, a piece of the answering sentence (any one)]. */
const ANSWERABLE: [string, string, string[]][] = [
  ["Who registered mozilla.org?", "mozilla.html", ["Jamie Zawinski from Netscape registered mozilla.org"]],
  ["What was Mozilla's total revenue for 2011?", "mozilla.html", ["total revenue for 2011 was $163 million"]],
  ["How much of Mozilla's revenue comes from its contract with Google?", "mozilla.html", ["roughly 85% of their revenue comes from their contract with Google"]],
  ["When did Mozilla promote Brendan Eich to CEO?", "mozilla.html", ["On March 24, 2014, Mozilla promoted Brendan Eich"]],
  ["When did Eich step down as CEO?", "mozilla.html", ["Eich voluntarily stepped down on April 3, 2014"]],
  ["What layout engine does Firefox use?", "mozilla.html", ["Firefox uses the Gecko layout engine", "uses the same Gecko layout engine"]],
  ["What was Firefox originally named?", "mozilla.html", ["Firefox was originally named Phoenix"]],
  ["When was the name Firefox chosen?", "mozilla.html", ["The current name, Firefox, was chosen on February 9, 2004."]],
  ["What is the codename of Firefox Mobile?", "mozilla.html", ["Firefox Mobile (codenamed Fennec)"]],
  ["What is Thunderbird?", "mozilla.html", ["Thunderbird is a free, open source, cross-platform email and news client"]],
  ["Who maintains SeaMonkey?", "mozilla.html", ["SeaMonkey is now maintained by the SeaMonkey Council"]],
  ["What is Bugzilla?", "mozilla.html", ["Bugzilla is a web-based general-purpose bug tracking system"]],
  ["What is Rhino?", "mozilla.html", ["Rhino is an open source JavaScript engine managed by the Mozilla Foundation."]],
  ["Who develops the Rust programming language?", "mozilla.html", ["Rust is a compiled programming language being developed by Mozilla Research."]],
  ["When will Mozilla Persona shut down?", "mozilla.html", ["Mozilla Persona will be shutting down on November 30, 2016."]],
  ["Who invented JavaScript?", "mozilla.html", ["Eich is also the inventor of JavaScript", "developed by Brendan Eich when he invented JavaScript"]],
  ["Who founded Microsoft?", "microsoft.html", ["Microsoft was founded by Bill Gates and Paul Allen on April 4, 1975"]],
  ["When did Microsoft reach a trillion-dollar market cap?", "microsoft.html", ["In April 2019, Microsoft reached a trillion-dollar market cap"]],
  ["What did Traf-O-Data sell?", "microsoft.html", ["Traf-O-Data, which sold a rudimentary computer"]],
  ["Who succeeded Steve Ballmer as CEO of Microsoft?", "microsoft.html", ["succeeded by Satya Nadella", "Satya Nadella succeeded Steve Ballmer"]],
  ["When did Bill Gates hand over the CEO position to Steve Ballmer?", "microsoft.html", ["On January 13, 2000, Bill Gates handed over the CEO position to Steve Ballmer"]],
  ["When did Microsoft join the Linux Foundation?", "microsoft.html", ["Microsoft joined the Linux Foundation"]],
  ["When did Microsoft enter the operating system business?", "microsoft.html", ["Microsoft entered the operating system (OS) business in 1980"]],
  ["What are the four golden signals of monitoring?", "sre.html", ["The four golden signals of monitoring are latency, traffic, errors, and saturation."]],
  ["How can you tell a slow average from a slow tail of requests?", "sre.html", ["collect request counts bucketed by latencies"]],
  ["Which monitoring systems does Google avoid?", "sre.html", ["We avoid \"magic\" systems that try to learn thresholds"]],
  ["What APIs does Emscripten use as much as possible?", "v8-blog.html", ["WASI APIs as much as possible"]],
  ["Why does Emscripten provide a notification API for memory growth?", "v8-blog.html", ["Emscripten provides a notification API", "JS runtimes must constantly check if memory grew"]],
  ["How many kilocalories does maintenance of life require for man?", "Tragedy-Of-The-Commons.pdf", ["maintenance of life requires about 1600 kilocalories"]],
  ["Where is the author of the article a professor of biology?", "Tragedy-Of-The-Commons.pdf", ["The author is professor of biology, University of California, Santa Barbara."]],
  ["What does Adapter's License mean?", "CC_License_Agreement_of_siMPle.pdf", ["Adapter's License means the license You apply"]],
  ["What are the License Elements of this Public License?", "CC_License_Agreement_of_siMPle.pdf", ["The License Elements of this Public License are Attribution and ShareAlike."]],
];

// Measured with the shipped default (min support 0.5): 24 of 32 right first, 0 wrong, 8 "not found"
// (mostly one-term questions such as "What is Bugzilla?", whose support stays low). A change may
// move these figures; it may not quote a wrong sentence more often or answer fewer right.
const MIN_RIGHT = 24;
const MAX_WRONG = 1;

const OFF_TOPIC = [
  "What is the capital of Australia?",
  "Who painted the ceiling of the Sistine Chapel?",
  "What is the boiling point of mercury?",
  "How many moons does Jupiter have?",
  "Who won the Tour de France in 1998?",
  "What is the population of Lagos?",
  "When was the Eiffel Tower built?",
  "Who wrote War and Peace?",
  "What is the tallest volcano on Mars?",
  "Which river is the longest in Europe?",
];

const DATA = sharedData("documents");
const NAMES: Record<string, string> = { "html/markitdown/test_wikipedia.html": "microsoft.html", "html/wikipedia/source.html": "mozilla.html", "html/v8-blog/source.html": "v8-blog.html", "html/google-sre-book-1/source.html": "sre.html" };

test("the hand-checked document set: the answering sentence first, off-topic questions abstain", { skip: DATA === undefined && "no ../shared/data/documents beside the repository", timeout: 180_000 }, async () => {
  const root = mkdtempSync(join(tmpdir(), "strata-docset-"));
  try {
    const files = join(root, "docs");
    mkdirSync(files);
    for (const d of DOCS) copyFileSync(join(DATA!, d), join(files, NAMES[d] ?? basename(d)));
    const kb = KnowledgeBase.open(join(root, "kb"), { create: true });
    const ingest = await kb.ingest([files]);
    assert.deepEqual(ingest.failed, []);
    const wrong: string[] = [];
    const notFound: string[] = [];
    for (const [q, doc, pieces] of ANSWERABLE) {
      const a = await kb.answer(q, { access: { owner: true } });
      const first = a.sentences[0]?.text.replace(/\s+/g, " ") ?? "";
      if (!a.supported) notFound.push(`${q} → not found (${a.abstentionDetail})`);
      else if (basename(a.citations[0]!.source) !== doc || !pieces.some((p) => first.includes(p))) wrong.push(`${q} → [${basename(a.citations[0]!.source)}] ${first.slice(0, 160)}`);
    }
    const right = ANSWERABLE.length - wrong.length - notFound.length;
    const offAnswered: string[] = [];
    for (const q of OFF_TOPIC) {
      const a = await kb.answer(q, { access: { owner: true } });
      if (a.supported) offAnswered.push(`${q} → ${a.sentences[0]?.text.slice(0, 160)}`);
      else assert.ok(a.abstention === "no-supported-sentence" || a.abstention === "no-sources", `abstention reason ${a.abstention}`);
    }
    kb.close();
    console.log(`document set: ${right}/${ANSWERABLE.length} right sentence first, ${wrong.length} wrong, ${notFound.length} not found; ${OFF_TOPIC.length - offAnswered.length}/${OFF_TOPIC.length} off-topic abstain`);
    const report = `wrong:\n${wrong.join("\n")}\nnot found:\n${notFound.join("\n")}`;
    assert.ok(wrong.length <= MAX_WRONG, `${wrong.length} answers quote a wrong sentence first (at most ${MAX_WRONG})\n${report}`);
    assert.ok(right >= MIN_RIGHT, `${right} answers quote the right sentence first (at least ${MIN_RIGHT})\n${report}`);
    assert.deepEqual(offAnswered, [], "off-topic questions that got an answer");
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
