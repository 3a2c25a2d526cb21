// Plain JavaScript: set a property, listen to an event.
const viewer = document.getElementById('viewer');

document.getElementById('file').addEventListener('change', async (e) => {
  const file = e.target.files[0];
  if (file) viewer.document = new Uint8Array(await file.arrayBuffer()); // property: the PDF bytes
});

viewer.addEventListener('verified', (e) => {
  // event: the report of DESIGN.md and the viewer's verdict (valid, invalid, revoked, …)
  document.getElementById('verdict').textContent = `核验结果：${e.detail.verdict}`;
});
