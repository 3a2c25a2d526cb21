// the JSX typings generated from the Custom Elements Manifest (npm run build)
import type {} from '../../../packages/elements/types/react';
// React 19 sets properties on custom elements (document={pdf}) and listens to on<event> props.
import { useState } from 'react';
import { createRoot } from 'react-dom/client';

const SIDIAN = 'http://localhost:8080';

function App() {
  const [pdf, setPdf] = useState<Uint8Array>();
  const [verdict, setVerdict] = useState('尚未核验');
  return (
    <main>
      <h1>证照核验 · React</h1>
      <label>
        选择证照 PDF{' '}
        <input
          id="file"
          type="file"
          accept="application/pdf"
          onChange={async (e) => {
            const file = e.target.files?.[0];
            if (file) setPdf(new Uint8Array(await file.arrayBuffer()));
          }}
        />
      </label>
      <p id="verdict" role="status">
        {verdict}
      </p>
      <licence-viewer
        id="viewer"
        trust={`${SIDIAN}/api/trust`}
        document={pdf}
        onverified={(e) => setVerdict(`核验结果：${e.detail.verdict}`)}
      />
    </main>
  );
}

createRoot(document.getElementById('root')!).render(<App />);
