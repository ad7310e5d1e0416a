// The knowledge-base MCP server through the SDK's own client (in memory): its tools and resource,
// access for anonymous, a user and a group member, retrieved text as structured untrusted data
// with exact spans, the server's argument checks and their messages, and generative answers.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { createKbMcpServer, describeAccess } from "../../../src/agents/mcp/kb-server.js";
import { OWNER, type Access } from "../../../src/knowledge/store/access.js";
import type { LanguageModel } from "../../../src/model/types.js";
import { cite, DANA, fixtureKb, GUEST, ScriptedModel } from "../../knowledge/answer/scripted.js";

interface Hit { rank: number; docId: string; source: string; chunkId: string; start: number; end: number; text: string; headingPath: string[] }
interface Search { untrusted: true; query: string; mode: string; results: Hit[] }
interface Answer { untrusted: true; mode: string; supported: boolean; answer: string; citations: { n: number; docId: string; source: string; start: number; end: number; quote: string }[]; model?: string; traceId?: string }
interface Doc { untrusted: true; docId: string; source: string; text: string; length: number; offset: number; truncated: boolean }

const kb = await fixtureKb();
const ANON: Access = { groups: [] };
const clients: Client[] = [];
after(async () => {
  for (const c of clients) await c.close();
  kb.close();
});

async function connect(access: Access, model?: LanguageModel): Promise<Client> {
  const server = createKbMcpServer({ kb, access, model });
  const [a, b] = InMemoryTransport.createLinkedPair();
  await server.connect(a);
  const client = new Client({ name: "test", version: "1" });
  await client.connect(b);
  clients.push(client);
  return client;
}

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

function data<T>(r: CallToolResult): T {
  assert.notEqual(r.isError, true, JSON.stringify(r.content));
  const first = r.content[0];
  assert.equal(first?.type, "text");
  // The text block is the structured content as JSON, not prose around it.
  assert.deepEqual(JSON.parse(first.type === "text" ? first.text : ""), r.structuredContent);
  return r.structuredContent as T;
}

function errorText(r: CallToolResult): string {
  assert.equal(r.isError, true, "expected an error result");
  const first = r.content[0];
  return first?.type === "text" ? first.text : "";
}

const secretDoc = (await kb.search("Kestrel sonar sled", { access: OWNER, k: 1 }))[0]!;
const opsDoc = (await kb.search("humidity sensors recalibrated", { access: OWNER, k: 1 }))[0]!;

test("it lists search, ask and document with their input schemas, and the document resource", async () => {
  const client = await connect(ANON);
  const { tools } = await client.listTools();
  assert.deepEqual(tools.map((t) => t.name).sort(), ["ask", "document", "search"]);
  const search = tools.find((t) => t.name === "search")!;
  assert.deepEqual(search.inputSchema.required, ["query"]);
  assert.deepEqual(Object.keys(search.inputSchema.properties ?? {}).sort(), ["k", "mode", "query"]);
  assert.equal(search.inputSchema.additionalProperties, false);
  assert.equal(search.annotations?.readOnlyHint, true);
  assert.ok(search.outputSchema, "results are described by an output schema");
  const { resourceTemplates } = await client.listResourceTemplates();
  assert.deepEqual(resourceTemplates.map((r) => r.uriTemplate), ["strata://documents/{docId}"]);
  assert.match(client.getInstructions() ?? "", /anonymous \(public documents only\)/);
});

test("anonymous search returns public passages as untrusted data with exact spans, never restricted ones", async () => {
  const client = await connect(ANON);
  const s = data<Search>(await call(client, "search", { query: "standard admission price", k: 3 }));
  assert.equal(s.untrusted, true);
  assert.equal(s.mode, "lexical");
  assert.ok(s.results.length > 0);
  assert.ok(s.results[0]!.source.endsWith("museum-guide.md"));
  for (const r of s.results) assert.equal(kb.getDocument(r.docId, OWNER).text.slice(r.start, r.end), r.text);
  for (const q of ["Kestrel sonar sled Marigold survey", "humidity sensors recalibrated"]) {
    const hidden = data<Search>(await call(client, "search", { query: q }));
    assert.ok(!hidden.results.some((r) => /survey-plan|facilities/.test(r.source)), JSON.stringify(hidden.results));
  }
});

test("a user sees what the user may read: groups for dana, the user list for omar", async () => {
  const dana = await connect(DANA);
  const s = data<Search>(await call(dana, "search", { query: "Kestrel sonar sled Marigold survey" }));
  assert.ok(s.results[0]!.source.endsWith("survey-plan.md"));
  assert.ok(!data<Search>(await call(dana, "search", { query: "humidity sensors recalibrated" })).results.some((r) => r.source.includes("facilities")));
  const omar = await connect({ user: "omar", groups: [] });
  assert.ok(data<Search>(await call(omar, "search", { query: "humidity sensors recalibrated" })).results[0]!.source.endsWith("facilities.txt"));
});

test("ask: an extractive cited answer for the principal, an honest not-found for others", async () => {
  const q = "How much money does the conservation team ask for the wreck survey?";
  const guest = data<Answer>(await call(await connect(GUEST), "ask", { question: q }));
  assert.equal(guest.untrusted, true);
  assert.equal(guest.mode, "extractive");
  assert.equal(guest.supported, false);
  assert.doesNotMatch(JSON.stringify(guest), /215,000|Kestrel/);
  const dana = data<Answer>(await call(await connect(DANA), "ask", { question: q }));
  assert.equal(dana.supported, true);
  assert.match(dana.answer, /215,000 pounds/);
  const c = dana.citations[0]!;
  assert.equal(kb.getDocument(c.docId, OWNER).text.slice(c.start, c.end), c.quote);
});

test("document tool and resource: the text for those who may read it, an error for others", async () => {
  const guest = await connect(GUEST);
  assert.match(errorText(await call(guest, "document", { docId: secretDoc.docId })), /^error: no document doc_\S+ .*that you may read\nhint: /);
  await assert.rejects(guest.readResource({ uri: `strata://documents/${secretDoc.docId}` }), /that you may read/);
  const dana = await connect(DANA);
  const d = data<Doc>(await call(dana, "document", { docId: secretDoc.docId }));
  assert.equal(d.untrusted, true);
  assert.match(d.text, /215,000 pounds/);
  assert.equal(d.truncated, false);
  const part = data<Doc>(await call(dana, "document", { docId: secretDoc.docId, offset: 5, maxChars: 10 }));
  assert.equal(part.text, d.text.slice(5, 15));
  assert.equal(part.truncated, true);
  const res = await dana.readResource({ uri: `strata://documents/${secretDoc.docId}` });
  assert.equal(res.contents[0] && "text" in res.contents[0] ? res.contents[0].text : undefined, d.text);
  assert.equal(res.contents[0]?._meta?.untrusted, true);
  assert.match(errorText(await call(dana, "document", { docId: opsDoc.docId })), /that you may read/);
});

test("bad arguments get a clear error naming the problem", async () => {
  const client = await connect(ANON);
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ["search", { query: "" }, /the query is empty/],
    ["search", { query: "x".repeat(4001) }, /the query is longer than 4,000 characters/],
    ["search", {}, /query is required/],
    ["search", { query: 42 }, /query must be a string/],
    ["search", { query: "tickets", top_k: 3 }, /Unrecognized key: "top_k"/],
    ["search", { query: "tickets", k: 0 }, /k must be at least 1/],
    ["search", { query: "tickets", k: 2.5 }, /k must be a whole number/],
    ["search", { query: "tickets", mode: "dense" }, /mode must be "lexical"/],
    ["ask", { question: "" }, /the question is empty/],
    ["ask", { question: "q".repeat(4001) }, /longer than 4,000 characters/],
    ["document", { docId: "../../etc/passwd" }, /docId must be an id/],
    ["nope", {}, /Tool nope not found/],
  ];
  for (const [name, args, message] of cases) assert.match(errorText(await call(client, name, args)), message, `${name} ${JSON.stringify(args).slice(0, 60)}`);
  // Whitespace passes the schema but not the knowledge base's own check; the error keeps its hint.
  assert.match(errorText(await call(client, "search", { query: "   " })), /^error: the query is empty\nhint: /);
});

test("with a model, ask answers generatively from what the principal may read", async () => {
  const model = new ScriptedModel([cite("9 pounds", (n) => `A standard admission costs 9 pounds [${n}].`)]);
  const a = data<Answer>(await call(await connect(GUEST, model), "ask", { question: "How much does a standard admission cost?" }));
  assert.equal(a.mode, "generative");
  assert.equal(a.supported, true);
  assert.equal(a.model, "scripted-1");
  assert.match(a.traceId ?? "", /^trc_/);
  assert.doesNotMatch(model.prompt(), /215,000|Kestrel|humidity/);
});

test("describeAccess says who the server acts as", () => {
  assert.equal(describeAccess({ groups: [] }), "anonymous (public documents only)");
  assert.equal(describeAccess(DANA), "user dana in groups research");
  assert.equal(describeAccess(OWNER), "the store's owner (every document)");
});
