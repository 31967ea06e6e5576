'use strict'
// The Node.js Range endpoint Kino replaces: the logic found in most published "stream a video
// with Express/Fastify" examples, written carefully (single range, open-ended `a-`, suffix `-n`,
// 416 with `Content-Range: bytes */N`, malformed or multi-range headers ignored -> 200).
// No ETag / If-Range / conditional requests, like those examples.
//
//   node server.js PORT ROOT_DIR        ->  GET /files/:name serves ROOT_DIR/name
//
// Listens on 127.0.0.1 only and prints "fastify listening on http://127.0.0.1:PORT" when ready.

const fs = require('node:fs')
const path = require('node:path')
const Fastify = require('fastify')

const port = Number(process.argv[2])
const root = path.resolve(process.argv[3] || '.')
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error('usage: node server.js PORT ROOT_DIR')
  process.exit(2)
}

const TYPES = { '.mp4': 'video/mp4', '.m4s': 'video/mp4', '.ts': 'video/mp2t' }

// Parses `Range` against a representation of `size` bytes.
// Returns null (ignore the header: 200), 'unsatisfiable' (416) or { start, end } (inclusive).
function parseRange (header, size) {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim())
  if (!m || (m[1] === '' && m[2] === '')) return null // other units, multi-range, garbage
  let start
  let end
  if (m[1] === '') {
    // suffix: the last n bytes (a suffix longer than the file means the whole file)
    const n = Number(m[2])
    if (n === 0) return 'unsatisfiable'
    start = Math.max(0, size - n)
    end = size - 1
  } else {
    start = Number(m[1])
    if (m[2] !== '' && Number(m[2]) < start) return null // syntactically invalid: ignore
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1)
  }
  if (start >= size || size === 0) return 'unsatisfiable'
  return { start, end }
}

const app = Fastify({ logger: false })

app.get('/files/:name', async (request, reply) => {
  const name = request.params.name
  if (name !== path.basename(name) || name.startsWith('.')) {
    return reply.code(404).send({ error: 'not found' })
  }
  const file = path.join(root, name)
  let stat
  try {
    stat = await fs.promises.stat(file)
  } catch {
    return reply.code(404).send({ error: 'not found' })
  }
  if (!stat.isFile()) return reply.code(404).send({ error: 'not found' })
  const size = stat.size

  reply.header('Accept-Ranges', 'bytes')
  reply.header('Content-Type', TYPES[path.extname(name)] || 'application/octet-stream')
  reply.header('Last-Modified', stat.mtime.toUTCString())

  const header = request.headers.range
  const range = header === undefined ? null : parseRange(header, size)
  if (range === 'unsatisfiable') {
    reply.header('Content-Range', `bytes */${size}`)
    return reply.code(416).send()
  }
  if (range === null) {
    reply.header('Content-Length', size)
    return reply.code(200).send(fs.createReadStream(file))
  }
  const { start, end } = range
  reply.header('Content-Range', `bytes ${start}-${end}/${size}`)
  reply.header('Content-Length', end - start + 1)
  return reply.code(206).send(fs.createReadStream(file, { start, end }))
})

app.listen({ host: '127.0.0.1', port }).then(
  () => console.log(`fastify listening on http://127.0.0.1:${port}`),
  (err) => {
    console.error(err)
    process.exit(1)
  }
)

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => app.close().then(() => process.exit(0)))
}
