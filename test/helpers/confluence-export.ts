// A small Confluence space export (entities.xml): a page tree with positions, bodies in storage
// format (a code macro whose CDATA holds "]]>"-split text, a toc macro, a page link), an old
// version and a deleted page that must not be read, and two attachments.

function page(id: number, title: string, o: { parent?: number; position?: number; original?: number; status?: string } = {}): string {
  return `<object class="Page" package="com.atlassian.confluence.pages"><id name="id">${id}</id>
    <property name="title"><![CDATA[${title}]]></property>
    ${o.parent ? `<property name="parent" class="Page" package="com.atlassian.confluence.pages"><id name="id">${o.parent}</id></property>` : ""}
    ${o.position !== undefined ? `<property name="position">${o.position}</property>` : ""}
    ${o.original ? `<property name="originalVersion" class="Page" package="x"><id name="id">${o.original}</id></property>` : ""}
    <property name="contentStatus"><![CDATA[${o.status ?? "current"}]]></property></object>`;
}
const body = (id: number, owner: number, storage: string): string =>
  `<object class="BodyContent" package="com.atlassian.confluence.core"><id name="id">${id}</id><property name="body"><![CDATA[${storage}]]></property><property name="content" class="Page" package="x"><id name="id">${owner}</id></property><property name="bodyType">2</property></object>`;
const attachment = (id: number, owner: number, name: string): string =>
  `<object class="Attachment" package="com.atlassian.confluence.pages"><id name="id">${id}</id><property name="title"><![CDATA[${name}]]></property><property name="containerContent" class="Page" package="x"><id name="id">${owner}</id></property></object>`;

export const ENTITIES = `<?xml version="1.0" encoding="UTF-8"?>
<hibernate-generic datetime="2024-03-01 10:00:00">
  <object class="Space" package="com.atlassian.confluence.spaces"><id name="id">1</id><property name="name"><![CDATA[Harbour Operations]]></property><property name="key"><![CDATA[OPS]]></property></object>
  ${page(10, "Operations Home")}
  ${page(11, "Night Shift", { parent: 10, position: 1 })}
  ${page(12, "Crane Safety", { parent: 10, position: 0 })}
  ${page(13, "Crane Safety", { original: 12 })}
  ${page(14, "Old Draft", { status: "deleted" })}
  ${body(20, 10, "<p>Welcome to the operations space.</p>")}
  ${body(21, 11, '<h2>Handover</h2><p>The night shift hands over at 06:30 in the tower.</p><ac:structured-macro ac:name="code"><ac:parameter ac:name="language">bash</ac:parameter><ac:plain-text-body><![CDATA[radio --channel 16 && echo "a < b"]]]]><![CDATA[></ac:plain-text-body></ac:structured-macro>')}
  ${body(22, 12, '<p>Cranes stop when the wind exceeds 20 m/s.</p><ac:structured-macro ac:name="toc"/><p>See <ac:link><ri:page ri:content-title="Night Shift"/></ac:link>.</p>')}
  ${body(23, 13, "<p>Cranes stop when the wind exceeds 25 m/s.</p>")}
  ${body(24, 14, "<p>Deleted text about moorings.</p>")}
  ${attachment(30, 12, "wind-chart.pdf")}
  ${attachment(31, 12, "crane-checklist.xlsx")}
</hibernate-generic>`;
