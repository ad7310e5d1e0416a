// Hash routing (#/chat, #/kbs/<kb>, ...): the server serves one index.html at `/` and needs no
// fallback for deep links. Routes carry names and ids only — never the key.
import { useEffect, useState } from "react";

export type Route =
  | { page: "chat" }
  | { page: "kbs" }
  | { page: "kb"; kb: string }
  | { page: "doc"; kb: string; docId: string; start?: number; end?: number; pdfPage?: number }
  | { page: "agents" }
  | { page: "training" }
  | { page: "reports" }
  | { page: "account" }
  | { page: "admin" }
  | { page: "missing"; path: string };

function int(v: string | null): number | undefined {
  if (v === null || !/^\d+$/.test(v)) return undefined;
  return Number(v);
}

export function parseRoute(hash: string): Route {
  const raw = hash.replace(/^#/, "") || "/chat";
  const [pathPart = "", query = ""] = raw.split("?", 2);
  const parts = pathPart.split("/").filter(Boolean).map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
  const q = new URLSearchParams(query);
  const [a, b, c, d] = parts;
  if (parts.length === 0 || (a === "chat" && parts.length === 1)) return { page: "chat" };
  if (a === "kbs" && parts.length === 1) return { page: "kbs" };
  if (a === "kbs" && b && parts.length === 2) return { page: "kb", kb: b };
  if (a === "kbs" && b && c === "docs" && d && parts.length === 4) {
    const r: Extract<Route, { page: "doc" }> = { page: "doc", kb: b, docId: d };
    const start = int(q.get("start"));
    const end = int(q.get("end"));
    const pdfPage = int(q.get("page"));
    if (start !== undefined && end !== undefined && end >= start) Object.assign(r, { start, end });
    if (pdfPage !== undefined) r.pdfPage = pdfPage;
    return r;
  }
  if (a === "agents" && parts.length === 1) return { page: "agents" };
  if (a === "training" && parts.length === 1) return { page: "training" };
  if (a === "reports" && parts.length === 1) return { page: "reports" };
  if (a === "account" && parts.length === 1) return { page: "account" };
  if (a === "admin" && parts.length === 1) return { page: "admin" };
  return { page: "missing", path: raw };
}

export function href(r: Route): string {
  const e = encodeURIComponent;
  switch (r.page) {
    case "chat":
      return "#/chat";
    case "kbs":
      return "#/kbs";
    case "kb":
      return `#/kbs/${e(r.kb)}`;
    case "doc": {
      const q = new URLSearchParams();
      if (r.start !== undefined && r.end !== undefined) {
        q.set("start", String(r.start));
        q.set("end", String(r.end));
      }
      if (r.pdfPage !== undefined) q.set("page", String(r.pdfPage));
      const s = q.toString();
      return `#/kbs/${e(r.kb)}/docs/${e(r.docId)}${s ? `?${s}` : ""}`;
    }
    case "agents":
      return "#/agents";
    case "training":
      return "#/training";
    case "reports":
      return "#/reports";
    case "account":
      return "#/account";
    case "admin":
      return "#/admin";
    case "missing":
      return `#${r.path}`;
  }
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const on = (): void => setRoute(parseRoute(location.hash));
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return route;
}

export function go(r: Route): void {
  location.hash = href(r);
}
