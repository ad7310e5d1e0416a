// Where the signed-in key lives: sessionStorage only (gone when the tab closes, never in a URL,
// never in localStorage or a cookie), plus the React context pages read it from.
import { createContext, useContext } from "react";
import type { Client, Me } from "./api.ts";

const KEY = "strata.apiKey";

export function storedKey(): string | undefined {
  try {
    return sessionStorage.getItem(KEY) ?? undefined;
  } catch {
    return undefined;
  }
}

export function storeKey(key: string | undefined): void {
  try {
    if (key === undefined) sessionStorage.removeItem(KEY);
    else sessionStorage.setItem(KEY, key);
  } catch {
    // storage disabled: the key lives in memory for this page only
  }
}

export interface Session {
  client: Client;
  me: Me;
  signOut: (reason?: string) => void;
}

export const SessionContext = createContext<Session | undefined>(undefined);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error("useSession outside a signed-in page");
  return s;
}

/** A small per-tab preference (the chosen knowledge base), not a secret. */
export function pref(name: string, value?: string): string | undefined {
  try {
    if (value !== undefined) sessionStorage.setItem(`strata.pref.${name}`, value);
    return sessionStorage.getItem(`strata.pref.${name}`) ?? undefined;
  } catch {
    return value;
  }
}
