// A webhook receiver for bench/page_latency.sh: answers 200 to every POST
// and appends, for each alert of each notification, one line
//   <arrival ms since the epoch> <status> <window end ms>
// to the file named by its second argument, where the window end is the
// event time the transition happened at: startsAt of a firing alert,
// endsAt of a resolved one. Listens on 127.0.0.1:<first argument>.
const http = require('http');
const fs = require('fs');
const [port, out] = process.argv.slice(2);
http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const arrival = Date.now();
    let lines = '';
    try {
      for (const a of JSON.parse(Buffer.concat(chunks)).alerts || []) {
        const at = Date.parse(a.status === 'firing' ? a.startsAt : a.endsAt);
        lines += `${arrival} ${a.status} ${at}\n`;
      }
    } catch (e) {
      lines += `${arrival} malformed 0\n`;
    }
    fs.appendFileSync(out, lines);
    res.writeHead(200, {'Content-Type': 'text/plain'});
    res.end('ok\n');
  });
}).listen(Number(port), '127.0.0.1');
