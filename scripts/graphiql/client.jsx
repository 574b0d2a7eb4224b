// The GraphiQL page's browser code, bundled by scripts/build-graphiql.mjs into
// dist/graphiql/. The server hands it its settings in a JSON script element, because the
// page's CSP allows no inline script.
import { GraphiQL } from 'graphiql';
import { getOperationAST, parse } from 'graphql';
import { createClient as createSseClient } from 'graphql-sse';
import 'graphiql/style.css';
import { useMemo, useState } from 'react';
import { createRoot } from 'react-dom/client';
import './page.css';

const settings = JSON.parse(document.getElementById('chartgraph-graphiql-settings')?.textContent ?? '{}');
const endpoint = settings.endpoint ?? '/graphql';
const devTokens = Array.isArray(settings.devTokens) ? settings.devTokens : [];
const tabs = Array.isArray(settings.tabs) ? settings.tabs : [];
// GraphiQL 4 fills the first tab's query from `defaultTabs` on a fresh load but not its
// variables (they stay empty until a tab is clicked): hand them over explicitly, and only
// when no tab state is stored, or every reload would add a tab.
const freshLoad = (() => {
  try {
    return !window.localStorage.getItem('graphiql:tabState');
  } catch {
    return true;
  }
})();

/** Sends the operation with the token box's token, unless the header editor sets Authorization itself. */
function createFetcher(token) {
  return async (params, opts) => {
    const headers = { 'content-type': 'application/json', accept: 'application/json', ...(opts?.headers ?? {}) };
    const hasAuth = Object.keys(headers).some((h) => h.toLowerCase() === 'authorization');
    if (!hasAuth && token.trim()) headers.authorization = `Bearer ${token.trim()}`;
    if (isSubscription(params)) return subscribeOverSse(params, headers);
    const res = await fetch(endpoint, { method: 'POST', headers, body: JSON.stringify(params), credentials: 'omit' });
    const text = await res.text();
    try {
      return JSON.parse(text);
    } catch {
      return { errors: [{ message: `HTTP ${res.status}: ${text.slice(0, 200)}` }] };
    }
  };
}

/** Whether the operation to run is a subscription (GraphiQL then shows each event as it comes). */
function isSubscription(params) {
  try {
    return getOperationAST(parse(params.query), params.operationName ?? undefined)?.operation === 'subscription';
  } catch {
    return false;
  }
}

/** Subscriptions go over GraphQL over SSE (distinct connections) at `<endpoint>/stream`, with the same headers. */
function subscribeOverSse(params, headers) {
  const client = createSseClient({ url: `${endpoint}/stream`, headers: { ...headers, accept: 'text/event-stream' }, credentials: 'omit', retryAttempts: 0 });
  const events = client.iterate(params);
  return {
    [Symbol.asyncIterator]: () => events,
    next: () => events.next(),
    return: async () => {
      const done = await events.return?.();
      client.dispose();
      return done ?? { done: true, value: undefined };
    },
  };
}

function TokenBox({ token, onChange }) {
  return (
    <form className="cg-token" onSubmit={(e) => e.preventDefault()}>
      <label htmlFor="cg-token-input">Bearer token</label>
      <input
        id="cg-token-input"
        type="password"
        autoComplete="off"
        spellCheck={false}
        placeholder="Paste a token (chartgraph token --role clinician)"
        value={token}
        onChange={(e) => onChange(e.target.value)}
      />
      {devTokens.length > 0 && (
        <select
          aria-label="Dev tokens"
          value={devTokens.find((t) => t.token === token)?.role ?? ''}
          onChange={(e) => onChange(devTokens.find((t) => t.role === e.target.value)?.token ?? '')}
        >
          <option value="">dev token…</option>
          {devTokens.map((t) => (
            <option key={t.role} value={t.role}>
              {t.role}
            </option>
          ))}
        </select>
      )}
      <span className="cg-hint">or set an Authorization header below</span>
      {typeof settings.notice === 'string' && <span className="cg-hint cg-notice">{settings.notice}</span>}
    </form>
  );
}

function App() {
  const [token, setToken] = useState(devTokens.find((t) => t.role === settings.defaultRole)?.token ?? '');
  // A new fetcher makes GraphiQL introspect again, so the docs follow the token's rights.
  const fetcher = useMemo(() => createFetcher(token), [token]);
  return (
    <div className="cg-page">
      <TokenBox token={token} onChange={setToken} />
      <div className="cg-graphiql">
        <GraphiQL
          fetcher={fetcher}
          defaultTabs={tabs.length > 0 ? tabs : undefined}
          variables={freshLoad ? (tabs[0]?.variables ?? undefined) : undefined}
          defaultEditorToolsVisibility={tabs.some((t) => t.variables) ? 'variables' : true}
          shouldPersistHeaders={false}
        />
      </div>
    </div>
  );
}

createRoot(document.getElementById('graphiql')).render(<App />);
