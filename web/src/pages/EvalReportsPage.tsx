// SKELETON (being built): published evaluation reports (retrieval, QA, perplexity) with their charts.
import { NotAvailable, PageTitle } from "../components/common.tsx";

export function EvalReportsPage() {
  return (
    <>
      <PageTitle sub="Retrieval, answer and perplexity evaluations, with their charts.">Eval reports</PageTitle>
      <NotAvailable feature="Eval reports">Reports published by strata eval appear here.</NotAvailable>
    </>
  );
}
