// A page holding one <material-uploader>, loaded in an iframe by the reload test: the test reloads
// it mid-upload and watches the fresh page resume from IndexedDB and the tus upload URL.
import '../../packages/elements/src/material-uploader/define';
import type { MaterialUploader } from '../../packages/elements/src/material-uploader/material-uploader';

const q = new URLSearchParams(location.search);
const el = document.createElement('material-uploader') as MaterialUploader;
el.setAttribute('endpoint', q.get('endpoint') ?? '');
el.setAttribute('name', 'reload-test');
el.requirements = [{ id: 'big', name: '大文件', required: true, accept: 'pdf' }];
el.token = q.get('token') ?? '';
const events: { type: string; detail: unknown }[] = [];
for (const type of ['material-added', 'material-uploaded', 'upload-progress'] as const) {
  el.addEventListener(type, (e) => {
    if (type !== 'upload-progress') events.push({ type, detail: e.detail });
  });
}
document.body.append(el);
Object.assign(window, {
  uploader: el,
  uploaderEvents: events,
  addPdf: (bytes: ArrayBuffer, name: string) => el.addFiles([new File([bytes], name, { type: 'application/pdf' })], 'big'),
});
