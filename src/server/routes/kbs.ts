// Knowledge bases and their documents. A base the caller is not a member of, and a document the
// caller may not read, answer 404 exactly like ones that do not exist.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { z } from "zod";
import { NAME_PATTERN } from "../accounts.js";
import type { ServerContext } from "../context.js";
import { ServerError, toApiError } from "../errors.js";
import { KB_NAME_PATTERN } from "../kb-registry.js";
import type { RouteTable } from "../route.js";
import { EventStream, wantsEventStream } from "../sse.js";
import { ingestUploads, type UploadedFile } from "../uploads.js";

export const kbParam = z.string().regex(KB_NAME_PATTERN, "a knowledge-base name");
export const docIdParam = z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/, "a document id");
const principalName = z.string().regex(NAME_PATTERN, "a user or group name");
const members = z.object({ users: z.array(principalName).max(1000).default([]), groups: z.array(principalName).max(1000).default([]) }).strict();

const aclSchema = z.object({ users: z.array(z.string()), groups: z.array(z.string()) });
const kbSchema = z.object({ name: z.string(), documents: z.number(), chunks: z.number(), members: aclSchema, createdAt: z.string() });
const documentSummary = z.object({
  docId: z.string(),
  source: z.string(),
  title: z.string(),
  mime: z.string(),
  version: z.number(),
  ingestedAt: z.string(),
  size: z.number(),
  acl: aclSchema,
  tags: z.array(z.string()),
});
const failureSchema = z.object({ source: z.string(), code: z.string(), message: z.string(), hint: z.string() });
const reportSchema = z.object({ added: z.number(), updated: z.number(), unchanged: z.number(), removed: z.number(), failed: z.array(failureSchema), embedded: z.number().optional() });

function listField(values: string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(",")).map((s) => s.trim()).filter(Boolean);
}

/** Reads a multipart upload into memory within the limits: files and the acl_users, acl_groups and tags fields. */
async function readUpload(request: FastifyRequest, ctx: ServerContext): Promise<{ files: UploadedFile[]; fields: Map<string, string[]> }> {
  if (!request.isMultipart()) throw new ServerError("UNSUPPORTED_MEDIA_TYPE", "an upload must be multipart/form-data", "send the files as form fields named files");
  const limit = ctx.limits.uploadLimit;
  const declared = Number(request.headers["content-length"]);
  // The multipart framing adds a little; anything far over the limit is refused before it is read.
  if (Number.isFinite(declared) && declared > limit + 1024 * 1024) throw tooLarge(limit);
  const files: UploadedFile[] = [];
  const fields = new Map<string, string[]>();
  let total = 0;
  for await (const part of request.parts()) {
    if (part.type === "file") {
      let bytes: Buffer;
      try {
        bytes = await part.toBuffer();
      } catch (e) {
        if ((e as { code?: string }).code === "FST_REQ_FILE_TOO_LARGE") throw tooLarge(limit);
        throw e;
      }
      total += bytes.length;
      if (total > limit) throw tooLarge(limit);
      files.push({ name: part.filename, bytes });
    } else {
      const list = fields.get(part.fieldname) ?? [];
      list.push(String(part.value));
      fields.set(part.fieldname, list);
    }
  }
  if (files.length === 0) throw new ServerError("USAGE", "the upload has no files", "send one or more files in form fields named files");
  return { files, fields };
}

function tooLarge(limit: number): ServerError {
  return new ServerError("PAYLOAD_TOO_LARGE", `the upload is over the ${(limit / 1024 / 1024).toFixed(1)} MiB limit`, "upload fewer or smaller files; the operator sets the limit with strata serve --upload-limit");
}

export function registerKbRoutes(app: FastifyInstance, routes: RouteTable, ctx: ServerContext): void {
  routes.add(app, {
    method: "GET",
    url: "/api/kbs",
    summary: "Knowledge bases the caller may use, with the documents and chunks the caller may read",
    tag: "knowledge bases",
    auth: "read",
    response: z.array(kbSchema),
    handler: async ({ caller }) =>
      ctx.kbs.eachUsable(caller, (kb, info) => ({ name: info.name, ...kb.store.readable.counts(caller.principal), members: info.members, createdAt: info.createdAt })),
  });

  routes.add(app, {
    method: "POST",
    url: "/api/kbs",
    summary: "Create a knowledge base and say who may use it",
    tag: "knowledge bases",
    auth: "admin",
    body: z.object({ name: kbParam, members: members.default({ users: [], groups: [] }) }).strict(),
    response: kbSchema,
    handler: async ({ body, caller }, reply) => {
      const info = ctx.kbs.create(body.name, body.members, caller.user);
      reply.code(201);
      return ctx.kbs.use(info.name, caller, (kb) => ({ name: info.name, ...kb.store.readable.counts(caller.principal), members: info.members, createdAt: info.createdAt }));
    },
  });

  routes.add(app, {
    method: "PUT",
    url: "/api/kbs/:kb/members",
    summary: "Replace who may use a knowledge base",
    tag: "knowledge bases",
    auth: "admin",
    params: z.object({ kb: kbParam }),
    body: members,
    response: aclSchema,
    handler: async ({ params, body, caller }) => ctx.kbs.setMembers(params.kb, body, caller).members,
  });

  routes.add(app, {
    method: "DELETE",
    url: "/api/kbs/:kb",
    summary: "Delete a knowledge base and everything in it",
    tag: "knowledge bases",
    auth: "admin",
    params: z.object({ kb: kbParam }),
    response: z.object({ deleted: z.string() }),
    handler: async ({ params, caller }) => {
      await ctx.kbs.delete(params.kb, caller);
      return { deleted: params.kb };
    },
  });

  routes.add(app, {
    method: "GET",
    url: "/api/kbs/:kb/documents",
    summary: "Documents of a knowledge base that the caller may read",
    tag: "documents",
    auth: "read",
    params: z.object({ kb: kbParam }),
    response: z.array(documentSummary),
    handler: async ({ params, caller }) => ctx.kbs.use(params.kb, caller, (kb) => kb.store.readable.list(caller.principal)),
  });

  routes.add(app, {
    method: "POST",
    url: "/api/kbs/:kb/documents",
    summary: "Upload documents (multipart); with Accept: text/event-stream, progress events while they are indexed",
    tag: "documents",
    auth: "ingest",
    params: z.object({ kb: kbParam }),
    multipart: {
      description: "Files are stored as upload://<user>/<file name>; re-uploading a name updates that document. Names with paths are refused.",
      fields: {
        files: "one or more files (.md .txt .html .pdf .docx .csv .json .jsonl)",
        acl_users: "users who may read the documents (comma-separated or repeated); with acl_groups empty, everyone who may use the knowledge base",
        acl_groups: "groups whose members may read the documents",
        tags: "tags for filtering",
      },
    },
    response: reportSchema,
    events: { progress: "{done, total, item} after each file", done: "the report {added, updated, unchanged, removed, failed[]}", error: "{code, message, hint}" },
    handler: async ({ params, caller, raw, signal }, reply) => {
      // Membership first: a non-member's upload is refused before its bytes are read.
      ctx.kbs.find(params.kb, caller);
      const { files, fields } = await readUpload(raw, ctx);
      const acl = { users: listField(fields.get("acl_users")), groups: listField(fields.get("acl_groups")) };
      const tags = listField(fields.get("tags"));
      for (const n of [...acl.users, ...acl.groups]) if (!NAME_PATTERN.test(n)) throw new ServerError("USAGE", `"${n.slice(0, 80)}" is not a user or group name`, "use names like dana or research");
      for (const t of tags) if (t.length > 100) throw new ServerError("USAGE", "a tag is longer than 100 characters", "use short tags");
      const run = (onProgress?: (e: { done: number; total?: number; item?: string }) => void) =>
        ctx.kbs.use(params.kb, caller, (kb) => ingestUploads(kb, files, {
            user: caller.user,
            acl,
            tags,
            maxBytes: ctx.limits.uploadLimit,
            limits: ctx.limits.parse,
            embedder: ctx.models.embedding?.model,
            onStored: (docId, version, pages) => ctx.pages.put(params.kb, docId, version, pages),
            onProgress,
            signal,
          }));
      if (!wantsEventStream(raw)) return run();
      const events = new EventStream(reply);
      try {
        const report = await run((e) => events.send("progress", { done: e.done, total: e.total ?? files.length, item: e.item ?? "" }));
        events.send("done", report);
      } catch (e) {
        const err = toApiError(e);
        if (!err.expected) raw.log.error({ err: e }, "upload failed");
        events.send("error", { code: err.code, message: err.message, hint: err.hint });
      } finally {
        events.end();
      }
      return reply;
    },
  });

  routes.add(app, {
    method: "GET",
    url: "/api/kbs/:kb/documents/:docId",
    summary: "A document with its extracted text, if the caller may read it (404 otherwise)",
    tag: "documents",
    auth: "read",
    params: z.object({ kb: kbParam, docId: docIdParam }),
    response: documentSummary.omit({ size: true }).extend({ hash: z.string(), text: z.string(), pages: z.array(z.object({ page: z.number(), start: z.number(), end: z.number() })).optional() }),
    handler: async ({ params, caller }) =>
      ctx.kbs.use(params.kb, caller, (kb) => {
        const doc = kb.store.getDocument(params.docId, caller.principal);
        if (!doc) throw new ServerError("NOT_FOUND", `there is no document ${params.docId} in ${params.kb} that you may read`, `list the documents you may read with GET /api/kbs/${params.kb}/documents`);
        // Spans recorded at upload for this version, else what the chunks tell.
        const pages = ctx.pages.get(params.kb, doc.docId, doc.version) ?? kb.store.readable.pageSpans(params.docId, caller.principal);
        return {
          docId: doc.docId,
          source: doc.source,
          title: doc.title,
          mime: doc.mime,
          version: doc.version,
          hash: doc.hash,
          ingestedAt: doc.ingestedAt,
          acl: doc.acl,
          tags: doc.tags,
          ...(pages.length > 0 ? { pages } : {}),
          text: doc.text,
        };
      }),
  });

  routes.add(app, {
    method: "DELETE",
    url: "/api/kbs/:kb/documents/:docId",
    summary: "Delete a document the caller may read",
    tag: "documents",
    auth: "ingest",
    params: z.object({ kb: kbParam, docId: docIdParam }),
    response: z.object({ deleted: z.string() }),
    handler: async ({ params, caller }) =>
      ctx.kbs.use(params.kb, caller, (kb) => {
        // Read check and delete run in one synchronous step: nothing can change the ACL between them.
        if (!kb.store.getDocument(params.docId, caller.principal) || !kb.remove(params.docId)) {
          throw new ServerError("NOT_FOUND", `there is no document ${params.docId} in ${params.kb} that you may read`, `list the documents you may read with GET /api/kbs/${params.kb}/documents`);
        }
        ctx.pages.remove(params.kb, params.docId);
        return { deleted: params.docId };
      }),
  });
}
