// What kind of answer a question asks for, read from its interrogative phrase alone ("how many" →
// a quantity, "when" → a time), and whether a sentence holds something of that kind that the
// question does not already say. A sentence that answers "when" names a time; one that only
// repeats the question's words does not.

export type AnswerType = "person" | "time" | "quantity" | "place" | "reason" | "definition" | "other";

// The type is read from the question's first interrogative word on: "What happens when an ingest is
// killed?" asks "what", not "when"; "In what year …" asks for a time.
const INTERROGATIVE = /\b(?:what|which|who|whom|whose|when|where|why|how)\b/i;

// "What is Thunderbird?": a short subject after a copula, nothing else asked.
const DEFINITION = /^(?:what|who) (?:is|are|was|were) (?:an? |the )?[\p{L}\p{N}'’.+#-]+(?: [\p{L}\p{N}'’.+#-]+){0,2}\s*\?\s*$/iu;
// …but not one that asks for something the subject has ("Who was Kaidu's grandfather?"), one that
// ends on a preposition ("What are stators attached to?"), or a role ("Who was the Norse leader?"
// asks for a person, not for what a leader is).
const NOT_DEFINITION = /['’]s\b|\b(?:by|to|of|for|from|with|in|on|at|about|into)\s*\?\s*$|^who (?:is|are|was|were) (?:an?|the) /iu;

// Checked in order on the text from the interrogative on: "how many years" asks for a quantity.
const TYPE_RULES: [AnswerType, { test(asked: string): boolean }][] = [
  ["definition", { test: (asked) => DEFINITION.test(asked) && !NOT_DEFINITION.test(asked) }],
  ["quantity", /^how (?:many|much|long|far|old|large|big|tall|high|often|fast|wide|deep|heavy)\b|^what (?:percentage|percent|proportion|fraction|number|amount|share|size|population)\b/],
  ["time", /^when\b|^(?:what|which) (?:year|years|century|centuries|decade|date|day|month|time|period|era|age)\b/],
  ["person", /^who(?:m|se)?\b/],
  ["place", /^where\b|^(?:what|which) (?:country|countries|city|cities|state|region|place|continent|location|town|area|province|island|river)\b/],
  ["reason", /^why\b|^what (?:caused|causes|was the cause|is the cause|was the reason|is the reason|led to)\b|^what reasons?\b/],
];

export function answerTypeOf(question: string): AnswerType {
  const q = question.toLowerCase().trim();
  const at = INTERROGATIVE.exec(q);
  if (!at) return "other";
  const asked = q.slice(at.index);
  for (const [type, re] of TYPE_RULES) if (re.test(asked)) return type;
  return "other";
}

const MONTH = "(?:january|february|march|april|may|june|july|august|september|october|november|december)";
const TIME = new RegExp(`\\b(?:1\\d{3}|20\\d{2}|\\d{1,4}s|\\d+(?:st|nd|rd|th)|${MONTH})\\b|\\b(?:centur(?:y|ies)|decades?|BC|AD|BCE|CE)\\b`, "i");
const NUMBER_WORDS = "(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundreds?|thousands?|millions?|billions?|trillions?|dozens?|half|percent)";
const QUANTITY = new RegExp(`\\d|%|\\b${NUMBER_WORDS}\\b`, "i");
const REASON = /\b(?:because|due to|in (?:response|reaction|retaliation|protest|order) (?:to|for|against)|for fear of|to (?:avoid|prevent|protect|ensure)|owing to|thanks to|since|so that|in order to|as a result|result(?:ed|s)? (?:of|in|from)|caus(?:e|ed|es|ing)|led to|leads? to|reasons?|so as to|aimed? (?:at|to))\b/i;
// A capitalised word that does not start the sentence: a name (person, place, organisation).
const NAME = /(?<=[\p{L}\p{N},;:)]\s+)\p{Lu}[\p{L}'’.-]*/gu;

/**
 * The words of `sentence` that are new with respect to the question (question terms removed,
 * compared lower-cased), scanned for something of the asked type.
 */
export function holdsAnswerType(type: AnswerType, sentence: string, questionWords: ReadonlySet<string>): boolean {
  switch (type) {
    case "time":
      return matchesNew(TIME, sentence, questionWords);
    case "quantity":
      return matchesNew(QUANTITY, sentence, questionWords);
    case "reason":
      return REASON.test(sentence);
    case "definition":
      return definesSubject(sentence, questionWords);
    case "person":
    case "place":
      for (const m of sentence.matchAll(NAME)) if (!questionWords.has(m[0].toLowerCase().replace(/[.'’-]+$/, ""))) return true;
      return false;
    default:
      return true;
  }
}

function matchesNew(re: RegExp, sentence: string, questionWords: ReadonlySet<string>): boolean {
  const g = new RegExp(re.source, "gi");
  for (const m of sentence.matchAll(g)) {
    // The match's whole word, so "1973" in "1973s" or a digit inside "B-52" is judged as the word.
    const word = wordAround(sentence, m.index, m.index + m[0].length).toLowerCase();
    if (!questionWords.has(word)) return true;
  }
  return false;
}

function wordAround(s: string, start: number, end: number): string {
  while (start > 0 && /[\p{L}\p{N}]/u.test(s[start - 1]!)) start--;
  while (end < s.length && /[\p{L}\p{N}]/u.test(s[end]!)) end++;
  return s.slice(start, end);
}

// A definition names its subject early and then says what it is: "Rhino is an open source …",
// "Firefox Mobile (codenamed Fennec) is the build …".
const COPULA = /^(?:is|are|was|were|refers|means|denotes)$/i;
const DEFINITION_WINDOW = 8;

function definesSubject(sentence: string, questionWords: ReadonlySet<string>): boolean {
  const words = (sentence.match(/[\p{L}\p{N}]+/gu) ?? []).slice(0, DEFINITION_WINDOW);
  const subject = words.findIndex((w) => questionWords.has(w.toLowerCase()) && !COPULA.test(w) && !/^(?:what|who|the|an?)$/i.test(w));
  return subject >= 0 && words.slice(subject + 1).some((w) => COPULA.test(w));
}

// SQuAD 2.0's unanswerable questions are often an answerable one negated ("Who did Shirley not leave
// at Oswego?" over "Shirley left garrisons at Oswego"): a negated question is not answered by a
// sentence that negates nothing.
const NEGATION = /\b(?:not|never|no|none|nor|neither|without|unable|cannot|fail(?:ed|s)?)\b|n['’]t\b/i;

/** The text says "not", "never", "unable", "n't" … */
export const negates = (text: string): boolean => NEGATION.test(text);
