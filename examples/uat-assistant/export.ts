// A small synthetic Jira + Confluence export for the UAT assistant, written in the formats the two
// products export: Jira's "XML" search-request export (RSS 0.92 with HTML-escaped fields and custom
// fields) and its CSV export, and Confluence's HTML space export (an index.html plus one page per
// file, named <Title>_<pageId>.html, with the page body in #main-content). The content is a web
// shop's release: three user stories with Gherkin acceptance criteria, and the requirement pages
// they depend on.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface Story {
  key: string;
  id: number;
  summary: string;
  description: string;
  acceptance: string[];
  labels: string[];
  points: number;
}

export interface Page {
  id: number;
  title: string;
  /** Sections: heading → paragraphs. */
  sections: Array<[heading: string, paragraphs: string[]]>;
}

export const STORIES: Story[] = [
  {
    key: "SHOP-101",
    id: 10101,
    summary: "Reset a forgotten password",
    description: "As a registered customer I want to reset my password by email so that I can sign in again without calling support.",
    acceptance: [
      "Given a registered customer on the sign-in page, When they request a password reset for their email address, Then a reset link is emailed that expires after 30 minutes.",
      "Given a reset link older than 30 minutes, When the customer opens it, Then the page says the link has expired and offers to send a new one.",
      "Given five failed sign-in attempts within 15 minutes, When the customer tries to sign in again, Then the account is locked for 15 minutes.",
    ],
    labels: ["accounts", "security"],
    points: 5,
  },
  {
    key: "SHOP-102",
    id: 10102,
    summary: "Pay by card with 3-D Secure",
    description: "As a customer I want to pay by card so that my order is placed, with the strong customer authentication the bank requires.",
    acceptance: [
      "Given a basket worth more than 30 euros, When the customer pays by card, Then a 3-D Secure challenge is shown before the payment is authorised.",
      "Given a successful card payment, When the order is placed, Then an order confirmation email arrives within 5 minutes.",
    ],
    labels: ["checkout", "payments"],
    points: 8,
  },
  {
    key: "SHOP-103",
    id: 10103,
    summary: "Return an item for a refund",
    description: "As a customer I want to return an item I do not want so that I get my money back.",
    acceptance: [
      "Given an order delivered less than 30 days ago, When the customer starts a return from their account, Then a prepaid return label is offered.",
      "Given a returned item that passed inspection, When the refund is issued, Then the money goes back to the original payment method within 14 days.",
    ],
    labels: ["returns"],
    points: 3,
  },
];

export const PAGES: Page[] = [
  {
    id: 65539,
    title: "Password and Account Security",
    sections: [
      ["Password reset", [
        "Customers who forget their password request a reset on the sign-in page by entering their email address.",
        "The shop emails a single-use reset link from no-reply@shop.example. A reset link expires after 30 minutes.",
        "When a customer opens an expired reset link, the page explains that the link has expired and offers to send a new one.",
      ]],
      ["Account lockout", [
        "After five failed sign-in attempts within 15 minutes the account is locked for 15 minutes.",
        "A locked account can still request a password reset; a successful reset unlocks the account.",
      ]],
    ],
  },
  {
    id: 65541,
    title: "Checkout and Payments",
    sections: [
      ["Accepted payment methods", ["The shop accepts Visa, Mastercard and American Express cards, and PayPal."]],
      ["Strong customer authentication", [
        "Card payments for baskets worth more than 30 euros require a 3-D Secure challenge before the payment is authorised (PSD2 strong customer authentication).",
        "Baskets of 30 euros or less are exempt unless the card issuer asks for the challenge.",
      ]],
      ["Order confirmation", ["After a successful payment the order is placed and an order confirmation email is sent within 5 minutes.", "A declined payment leaves the basket unchanged and shows the reason given by the bank."]],
    ],
  },
  {
    id: 65543,
    title: "Returns and Refunds Policy",
    sections: [
      ["Return window", ["Customers may return items within 30 days of delivery.", "Returns are started from the Orders page of the customer's account, which offers a prepaid return label."]],
      ["Inspection and refund", [
        "Returned items are inspected within 3 working days of arrival at the warehouse.",
        "Once an item passes inspection, the refund is issued to the original payment method within 14 days.",
      ]],
    ],
  },
  {
    id: 65545,
    title: "UAT Test Case Guidelines",
    sections: [
      ["What a test case contains", [
        "Each UAT test case names the user story it covers, its preconditions, numbered steps and the expected result.",
        "Every expected result cites the requirement page it is checked against, so a reviewer can trace it.",
      ]],
      ["Review", ["Test cases are filed in the UAT register only after a test lead has reviewed them."]],
    ],
  },
  {
    id: 65547,
    title: "Release 2.4 Notes",
    sections: [["Scope", ["Release 2.4 adds self-service password reset (SHOP-101), card payments with 3-D Secure (SHOP-102) and online returns (SHOP-103).", "User acceptance testing runs in the staging shop from 30 November."]]],
  },
];

const esc = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const CREATED = "Mon, 2 Nov 2026 09:14:00 +0000";

/** Jira's XML export (Issues → Export → XML) of the stories. */
export function jiraXml(stories: Story[]): string {
  const items = stories.map((s) => {
    const description = `<p>${esc(s.description)}</p>`;
    const acceptance = `<ol>${s.acceptance.map((a) => `<li>${esc(a)}</li>`).join("")}</ol>`;
    return `<item>
    <title>[${s.key}] ${esc(s.summary)}</title>
    <link>https://jira.shop.example/browse/${s.key}</link>
    <project id="10000" key="SHOP">Web Shop</project>
    <description>${esc(description)}</description>
    <environment></environment>
    <key id="${s.id}">${s.key}</key>
    <summary>${esc(s.summary)}</summary>
    <type id="10001" iconUrl="https://jira.shop.example/images/icons/issuetypes/story.svg">Story</type>
    <priority id="3" iconUrl="https://jira.shop.example/images/icons/priorities/major.svg">Major</priority>
    <status id="10000" iconUrl="https://jira.shop.example/" description="">To Do</status>
    <statusCategory id="2" key="new" colorName="blue-gray"/>
    <resolution id="-1">Unresolved</resolution>
    <assignee username="-1">Unassigned</assignee>
    <reporter username="dana.whitfield">Dana Whitfield</reporter>
    <labels>
${s.labels.map((l) => `        <label>${esc(l)}</label>`).join("\n")}
    </labels>
    <created>${CREATED}</created>
    <updated>${CREATED}</updated>
    <fixVersion>2.4</fixVersion>
    <due></due>
    <votes>0</votes>
    <watches>1</watches>
    <customfields>
        <customfield id="customfield_10200" key="com.atlassian.jira.plugin.system.customfieldtypes:textarea">
            <customfieldname>Acceptance Criteria</customfieldname>
            <customfieldvalues>
                <customfieldvalue>${esc(acceptance)}</customfieldvalue>
            </customfieldvalues>
        </customfield>
        <customfield id="customfield_10016" key="com.pyxis.greenhopper.jira:jsw-story-points">
            <customfieldname>Story Points</customfieldname>
            <customfieldvalues>
                <customfieldvalue key="">${s.points}.0</customfieldvalue>
            </customfieldvalues>
        </customfield>
    </customfields>
</item>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>
<!--  RSS generated by JIRA (9.12.2#912002-sha1:2f8d3a1) at Fri Nov 20 10:15:02 UTC 2026 -->
<rss version="0.92">
<channel>
    <title>Web Shop JIRA</title>
    <link>https://jira.shop.example/issues/?jql=project+%3D+SHOP+AND+fixVersion+%3D+2.4+AND+issuetype+%3D+Story</link>
    <description>An XML representation of a search request</description>
    <language>en-us</language>
    <issue start="0" end="${stories.length}" total="${stories.length}"/>
    <build-info>
        <version>9.12.2</version>
        <build-number>912002</build-number>
        <build-date>04-10-2026</build-date>
    </build-info>
${items.join("\n")}
</channel>
</rss>
`;
}

const csvCell = (s: string): string => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

/** Jira's CSV export (Export → CSV (all fields)), the columns a story needs. */
export function jiraCsv(stories: Story[]): string {
  const header = ["Summary", "Issue key", "Issue id", "Issue Type", "Status", "Project key", "Project name", "Priority", "Reporter", "Created", "Labels", "Labels", "Description", "Custom field (Acceptance Criteria)", "Custom field (Story Points)"];
  const rows = stories.map((s) => [s.summary, s.key, String(s.id), "Story", "To Do", "SHOP", "Web Shop", "Major", "dana.whitfield", "02/Nov/26 9:14 AM", s.labels[0] ?? "", s.labels[1] ?? "", s.description, s.acceptance.map((a, i) => `${i + 1}. ${a}`).join("\n"), `${s.points}.0`]);
  return [header, ...rows].map((r) => r.map(csvCell).join(",")).join("\r\n") + "\r\n";
}

export function confluenceFileName(p: Page): string {
  return `${p.title.replace(/[^A-Za-z0-9]+/g, "-").replace(/^-|-$/g, "")}_${p.id}.html`;
}

function confluencePage(p: Page): string {
  const body = p.sections
    .map(([h, paras]) => `<h2 id="${p.title.replace(/\W+/g, "")}-${h.replace(/\W+/g, "")}">${esc(h)}</h2>\n${paras.map((x) => `<p>${esc(x)}</p>`).join("\n")}`)
    .join("\n");
  return `<!DOCTYPE html>
<html>
    <head>
        <title>SHOP : ${esc(p.title)}</title>
        <link rel="stylesheet" href="styles/site.css" type="text/css" />
        <META http-equiv="Content-Type" content="text/html; charset=UTF-8">
    </head>
    <body class="theme-default aui-theme-default">
        <div id="page">
            <div id="main" class="aui-page-panel">
                <div id="main-header">
                    <div id="breadcrumb-section">
                        <ol id="breadcrumbs">
                            <li class="first"><span><a href="index.html">Web Shop</a></span></li>
                        </ol>
                    </div>
                    <h1 id="title-heading" class="pagetitle">
                        <span id="title-text">${esc(p.title)}</span>
                    </h1>
                </div>
                <div id="content" class="view">
                    <div class="page-metadata">Created by <span class='author'> Dana Whitfield</span>, last modified on Nov 03, 2026</div>
                    <div id="main-content" class="wiki-content group">
${body}
                    </div>
                </div>
            </div>
            <div id="footer" role="contentinfo">
                <section class="footer-body">
                    <p>Document generated by Confluence on Nov 20, 2026 10:12</p>
                </section>
            </div>
        </div>
    </body>
</html>
`;
}

function confluenceIndex(pages: Page[]): string {
  return `<!DOCTYPE html>
<html>
    <head>
        <title>Web Shop</title>
        <META http-equiv="Content-Type" content="text/html; charset=UTF-8">
    </head>
    <body>
        <div id="main-content" class="pageSection">
            <h2 class="spacetitle">Web Shop (SHOP)</h2>
            <h2>Available Pages:</h2>
            <ul>
${pages.map((p) => `                <li><a href="${confluenceFileName(p)}">${esc(p.title)}</a></li>`).join("\n")}
            </ul>
        </div>
    </body>
</html>
`;
}

export interface ExportLayout {
  jiraXml: string;
  jiraCsv: string;
  confluence: string;
}

/** Writes the export under `dir`: jira/SearchRequest.xml, jira/issues.csv, confluence/SHOP/*.html. */
export function writeExport(dir: string, stories: Story[] = STORIES, pages: Page[] = PAGES): ExportLayout {
  const jira = join(dir, "jira");
  const confluence = join(dir, "confluence", "SHOP");
  mkdirSync(jira, { recursive: true });
  mkdirSync(join(confluence, "styles"), { recursive: true });
  const layout = { jiraXml: join(jira, "SearchRequest.xml"), jiraCsv: join(jira, "issues.csv"), confluence: join(dir, "confluence") };
  writeFileSync(layout.jiraXml, jiraXml(stories));
  writeFileSync(layout.jiraCsv, jiraCsv(stories));
  writeFileSync(join(confluence, "index.html"), confluenceIndex(pages));
  writeFileSync(join(confluence, "styles", "site.css"), "body { font-family: sans-serif; }\n");
  for (const p of pages) writeFileSync(join(confluence, confluenceFileName(p)), confluencePage(p));
  return layout;
}
