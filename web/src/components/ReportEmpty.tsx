// What the reports page says before anything is published: the commands that publish one.
export function ReportEmpty() {
  return (
    <section className="panel report-empty" aria-labelledby="report-empty-title" data-testid="reports-empty">
      <h2 id="report-empty-title">No reports yet</h2>
      <p>Reports appear here when an evaluation is published into this server&apos;s data folder (the folder given to <code>strata serve --data</code>). Run, on the server&apos;s machine:</p>
      <pre className="report-command">
        <code>npx strata eval retrieval --beir &lt;beir-folder&gt; --split test --publish &lt;data-folder&gt;</code>
      </pre>
      <p className="small muted">
        A BEIR folder holds <code>corpus.jsonl</code>, <code>queries.jsonl</code> and <code>qrels/test.tsv</code>. For a language model:{" "}
        <code className="break">npx strata eval lm --model gguf:&lt;model.gguf&gt; --data &lt;text-file&gt; --publish &lt;data-folder&gt;</code>. Then reload this page.
      </p>
    </section>
  );
}
