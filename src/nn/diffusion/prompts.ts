// The text side of the image model, kept deliberately small: the prompts are written from the ten
// Fashion-MNIST class names, three phrasings each, and each prompt has its own learned row in the
// model's condition table (a per-prompt embedding, not a general text encoder). A prompt is matched
// after normalising case, spaces and a trailing full stop; anything else is not a prompt the model
// knows, and sampling falls back to the null (unconditional) row.

/** Phrasings per class, in label order (0 = T-shirt/top … 9 = ankle boot). */
export const FASHION_PROMPTS: readonly (readonly string[])[] = [
  ["a t-shirt", "a top", "a photo of a t-shirt"],
  ["a pair of trousers", "trousers", "a photo of trousers"],
  ["a pullover", "a sweater", "a photo of a pullover"],
  ["a dress", "a summer dress", "a photo of a dress"],
  ["a coat", "a jacket", "a photo of a coat"],
  ["a sandal", "sandals", "a photo of a sandal"],
  ["a shirt", "a button-up shirt", "a photo of a shirt"],
  ["a sneaker", "a trainer", "a photo of a sneaker"],
  ["a bag", "a handbag", "a photo of a bag"],
  ["an ankle boot", "a boot", "a photo of an ankle boot"],
];

export function normalizePrompt(p: string): string {
  return p.trim().toLowerCase().replace(/\s+/g, " ").replace(/[.!]+$/, "");
}

/** The flat prompt list (row i of the condition table) and each row's class. */
export function promptTable(byClass: readonly (readonly string[])[]): { prompts: string[]; classOf: number[] } {
  const prompts: string[] = [];
  const classOf: number[] = [];
  byClass.forEach((list, c) => {
    for (const p of list) {
      prompts.push(normalizePrompt(p));
      classOf.push(c);
    }
  });
  return { prompts, classOf };
}

/** The condition row of a prompt, or null when the model was not trained on it. */
export function promptRow(prompts: readonly string[], prompt: string): number | null {
  const i = prompts.indexOf(normalizePrompt(prompt));
  return i < 0 ? null : i;
}
