// Published evaluation reports: the list with each one's headline figure, and the chosen report's
// figures, chart and full HTML page. Reports hold benchmark results, so every signed-in key may read them.
import { useState } from "react";
import { ErrorNote, Loading, PageTitle } from "../components/common.tsx";
import { listReports } from "../components/ReportApi.tsx";
import { ReportDetail } from "../components/ReportDetail.tsx";
import { ReportEmpty } from "../components/ReportEmpty.tsx";
import { ReportList } from "../components/ReportList.tsx";
import { useLoad } from "../hooks.ts";
import { useSession } from "../session.ts";

export function EvalReportsPage() {
  const { client } = useSession();
  const list = useLoad((signal) => listReports(client, signal), [client]);
  const [chosen, setChosen] = useState<string>();
  const readable = (list.data ?? []).filter((r) => !r.damaged);
  // The newest readable report is shown until the user picks another.
  const selected = chosen !== undefined && readable.some((r) => r.id === chosen) ? chosen : readable[0]?.id;

  let body;
  if (list.error) body = <ErrorNote error={list.error} title="The reports could not be loaded" />;
  else if (!list.data) body = <Loading what="reports" />;
  else if (list.data.length === 0) body = <ReportEmpty />;
  else {
    body = (
      <div className="reports-layout">
        <section className="panel reports-side" aria-labelledby="reports-list-title">
          <div className="panel-head">
            <h2 id="reports-list-title">Published</h2>
            <button type="button" className="button ghost small" onClick={list.reload}>
              Refresh
            </button>
          </div>
          <ReportList reports={list.data} selected={selected} onSelect={setChosen} />
        </section>
        {selected ? (
          <ReportDetail
            key={selected}
            id={selected}
            reports={list.data}
            onDeleted={() => {
              setChosen(undefined);
              list.reload();
            }}
          />
        ) : (
          <p className="muted">Every report in the list is damaged; publish one again.</p>
        )}
      </div>
    );
  }
  return (
    <>
      <PageTitle sub="Retrieval, question-answering, language-model evaluations and run comparisons published with strata eval --publish, with their charts; compare two reports of the same kind.">Eval reports</PageTitle>
      {body}
    </>
  );
}
