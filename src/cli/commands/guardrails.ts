// `strata guardrails`: the guardrails a knowledge base switches on for every answer from it, in
// the CLI and when a server serves it. Shown without flags; set with them.
import type { Command } from "commander";
import { KnowledgeBase, type GuardrailSettings } from "../../knowledge/knowledge-base.js";
import { usageError } from "../errors.js";
import { requireKb } from "../options.js";
import { type CommandContext, withCommand } from "../run.js";

interface GuardrailFlags {
  kb?: string;
  redactPii?: string;
  screenJailbreaks?: string;
  json?: boolean;
}

/** The two guardrail flags of ask, chat and serve: on for this run, whatever the knowledge base says. */
export interface GuardrailRunFlags {
  redactPii?: boolean;
  screenJailbreaks?: boolean;
}

export function addGuardrailRunOptions(c: Command): Command {
  return c
    .option("--redact-pii", "replace e-mail addresses, card numbers, IBANs, SSNs and phone numbers in answers and quotes with [LABEL]")
    .option("--screen-jailbreaks", "refuse questions with jailbreak or instruction-override phrasing (GUARDRAIL_BLOCKED)");
}

function onOff(name: string, value: string | undefined, current: boolean): boolean {
  if (value === undefined) return current;
  if (value === "on" || value === "off") return value === "on";
  throw usageError(`${name} takes on or off, got "${value}"`, `e.g. ${name} on`);
}

export function registerGuardrails(program: Command): void {
  program
    .command("guardrails")
    .description("show or switch the guardrails a knowledge base applies to every answer (PII redaction, jailbreak screen)")
    .option("--kb <dir>", "knowledge-base folder")
    .option("--redact-pii <on|off>", "redact personal data (e-mail, cards, IBAN, SSN, phone) in answers and quotes")
    .option("--screen-jailbreaks <on|off>", "refuse questions that try to override the instructions")
    .option("--json", "print one JSON document: {redactPii, screenJailbreaks}")
    .addHelpText("after", "\nThe settings are stored in the knowledge base: `strata ask`, `strata chat` and `strata serve` apply them.\nEach answer lists the guardrails applied and what they found (in --json and in the trace).\n\nExample:\n  strata guardrails --kb ./kb --redact-pii on --screen-jailbreaks on\n  strata guardrails --kb ./kb")
    .action(withCommand(async (flags: GuardrailFlags, ctx: CommandContext) => {
      const kb = KnowledgeBase.open(requireKb(flags.kb), {});
      try {
        const current = kb.guardrails();
        const next: GuardrailSettings = { redactPii: onOff("--redact-pii", flags.redactPii, current.redactPii), screenJailbreaks: onOff("--screen-jailbreaks", flags.screenJailbreaks, current.screenJailbreaks) };
        if (flags.redactPii !== undefined || flags.screenJailbreaks !== undefined) kb.setGuardrails(next);
        if (flags.json) ctx.printJson(next);
        else process.stdout.write(`redact-pii: ${next.redactPii ? "on" : "off"}\nscreen-jailbreaks: ${next.screenJailbreaks ? "on" : "off"}\n`);
        return 0;
      } finally {
        kb.close();
      }
    }));
}
