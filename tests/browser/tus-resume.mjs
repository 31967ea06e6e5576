// Uploads a file with tus-js-client (the library the Upload page bundles, from web/), stops
// after the first chunks as a closed tab or a killed client would, then resumes it from a new
// client that knows only the upload URL: that client asks the server for its offset (HEAD) and
// sends the rest. Prints one JSON line: {"video_id", "stopped_at", "resumed_from", "length"}.
//
//   node tests/browser/tus-resume.mjs BASE_URL TOKEN FILE
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { Upload } from '../../web/node_modules/tus-js-client/lib.esm/node/index.js';

const [base, token, file] = process.argv.slice(2);
if (!file) {
  console.error('usage: node tus-resume.mjs BASE_URL TOKEN FILE');
  process.exit(2);
}
const bytes = readFileSync(file);
const CHUNK = 256 * 1024;
const common = {
  endpoint: `${base}/api/uploads/`,
  headers: { Authorization: `Bearer ${token}` },
  chunkSize: CHUNK,
  retryDelays: [],
  metadata: { filename: basename(file), title: 'Resumed with tus-js-client', privacy: 'public' },
};

// First client: stops once two chunks are in.
const first = await new Promise((resolve, reject) => {
  let chunks = 0;
  const upload = new Upload(bytes, {
    ...common,
    onChunkComplete: (_size, sent) => {
      chunks += 1;
      if (chunks === 2) {
        upload.abort(false).then(() => resolve({ url: upload.url, stoppedAt: sent }), reject);
      }
    },
    onSuccess: () => reject(new Error('the first client was meant to stop before the end')),
    onError: reject,
  });
  upload.start();
});

// Second client: knows only the URL.
let resumedFrom = null;
let videoId = null;
await new Promise((resolve, reject) => {
  const upload = new Upload(bytes, {
    ...common,
    uploadUrl: first.url,
    onAfterResponse: (req, res) => {
      if (req.getMethod() === 'HEAD') resumedFrom = Number(res.getHeader('Upload-Offset'));
      videoId = res.getHeader('Kino-Video-Id') || videoId;
    },
    onSuccess: resolve,
    onError: reject,
  });
  upload.start();
});
console.log(JSON.stringify({ video_id: videoId, stopped_at: first.stoppedAt, resumed_from: resumedFrom, length: bytes.length }));
