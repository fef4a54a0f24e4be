import mjml2html from 'mjml';
import Handlebars from 'handlebars';
const src = `<mjml lang="en">
<mj-head><mj-title>{{mailSubject}}</mj-title></mj-head>
<mj-body>
<mj-raw>{{#if msg}}</mj-raw>
<mj-section><mj-column><mj-text>Msg: {{msg}}</mj-text></mj-column></mj-section>
<mj-raw>{{/if}}</mj-raw>
<mj-section><mj-column>
<mj-raw>{{#if link}}</mj-raw>
<mj-button href="{{link}}">Go</mj-button>
<mj-raw>{{/if}}</mj-raw>
<mj-table>
{{#each people}}<tr><td>{{name}}</td></tr>{{/each}}
</mj-table>
</mj-column></mj-section>
</mj-body></mjml>`;
const r = mjml2html(src, { validationLevel: 'strict', minify: false, beautify: false, ignoreIncludes: true });
console.log(r.html.slice(r.html.indexOf('<body')));
const t = Handlebars.compile(r.html, {strict: true});
const out = t({mailSubject:'S', msg:'<b>x</b>', link:'https://x.com/?a=1&b=2', people:[{name:'A&B'}]});
console.log('-----', out.slice(out.indexOf('<body')));
try { mjml2html('<mjml><mj-body>\n<mj-section>\n<mj-colum></mj-colum></mj-section></mj-body></mjml>', { validationLevel: 'strict' }) } catch (e) { console.log(e.message, JSON.stringify(e.errors)) }
try { Handlebars.precompile('a\nb {{#if x}} c\n {{/each}}', {strict:true}) } catch (e) { console.log(Object.keys(e), e.message, e.lineNumber) }
try { Handlebars.precompile('a\nb {{foo x}} c\n', {strict:true, knownHelpersOnly:true}) } catch (e) { console.log(Object.keys(e), e.message, e.lineNumber) }
try { Handlebars.precompile('a\nb {{foo x}\n', {strict:true}) } catch (e) { console.log(Object.keys(e), e.message, e.lineNumber, e.hash) }
