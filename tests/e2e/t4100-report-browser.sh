#!/bin/sh
# t4100-report-browser: the real pipeline on the bundled Haxby slice (the
# main job, 2 ranks, with timings), `nidec report` on its output, and
# the page opened in headless Chromium driven through chromedriver's
# WebDriver HTTP API (Python stdlib only): every <img> decoded
# (naturalWidth > 0), no console error, no script, no network; a full-page
# screenshot kept in tests/artifacts/t4100-report.png.
# Needs Debian's chromium and chromium-driver; skipped when Chromium cannot
# start.
. "$(dirname "$0")/../lib.sh"

ART=$REPO_DIR/tests/artifacts

cat >"$TRASH/browse.py" <<'EOF'
"""Open a page in headless Chromium through chromedriver; print what the
page holds as JSON; save a full-page screenshot.  Exit 77 if the browser
cannot start (the caller skips), 1 on a failed WebDriver call."""
import base64, json, os, shutil, socket, subprocess, sys, tempfile, time, urllib.request, urllib.error

page, shot = sys.argv[1], sys.argv[2]
WIDTH = 1280

def free_port():
    s = socket.socket(); s.bind(('127.0.0.1', 0)); p = s.getsockname()[1]; s.close(); return p

def call(method, path, body=None, timeout=60):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={'Content-Type': 'application/json'})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return json.loads(r.read().decode())
    except urllib.error.HTTPError as e:
        return json.loads(e.read().decode())

def script(s, js):
    r = call('POST', s + '/execute/sync', {'script': js, 'args': []})
    v = r.get('value')
    if isinstance(v, dict) and 'error' in v:
        print('FAIL: script %r: %s' % (js[:60], v.get('message'))); sys.exit(1)
    return v

driver = shutil.which('chromedriver')
browser = shutil.which('chromium') or shutil.which('chromium-browser')
if not driver or not browser:
    print('SKIP: chromium or chromedriver not installed (apt-get install chromium chromium-driver)')
    sys.exit(77)
port = free_port(); base = 'http://127.0.0.1:%d' % port
profile = tempfile.mkdtemp(prefix='nidec-chromium-')
log = open(os.path.join(profile, 'chromedriver.log'), 'w')
proc = subprocess.Popen([driver, '--port=%d' % port], stdout=log, stderr=subprocess.STDOUT)
sid = None
try:
    for _ in range(150):
        try:
            if call('GET', '/status', timeout=2).get('value', {}).get('ready'):
                break
        except Exception:
            pass
        time.sleep(0.1)
    else:
        print('SKIP: chromedriver did not start'); sys.exit(77)
    args = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
            '--disable-background-networking', '--disable-component-update', '--disable-sync',
            '--disable-quic', '--hide-scrollbars', '--user-data-dir=' + os.path.join(profile, 'user'),
            '--window-size=%d,900' % WIDTH]
    r = call('POST', '/session', {'capabilities': {'alwaysMatch': {
        'browserName': 'chrome', 'goog:chromeOptions': {'binary': browser, 'args': args},
        'goog:loggingPrefs': {'browser': 'ALL'}}}}, timeout=120)
    v = r.get('value', {})
    sid = v.get('sessionId')
    if not sid:
        print('SKIP: chromium cannot start: %s' % str(v.get('message', r))[:300]); sys.exit(77)
    s = '/session/' + sid
    r = call('POST', s + '/url', {'url': 'file://' + os.path.abspath(page)})
    if isinstance(r.get('value'), dict) and 'error' in r['value']:
        print('FAIL: cannot open the page: %s' % r['value'].get('message')); sys.exit(1)
    for _ in range(100):
        if script(s, 'return document.readyState') == 'complete':
            break
        time.sleep(0.1)
    imgs = script(s, 'return Array.from(document.images).map(i => '
                     '({alt: i.alt, complete: i.complete, w: i.naturalWidth, h: i.naturalHeight}))')
    info = script(s, 'return {title: document.title, '
                     'sections: Array.from(document.querySelectorAll("section")).map(e => e.id), '
                     'svgs: document.querySelectorAll("svg").length, scripts: document.scripts.length, '
                     'na: Array.from(document.querySelectorAll(".na")).map(e => e.textContent), '
                     'height: Math.ceil(document.documentElement.scrollHeight), '
                     'resources: performance.getEntriesByType("resource").map(e => e.name)}')
    logs = call('POST', s + '/se/log', {'type': 'browser'}).get('value')
    if not isinstance(logs, list):
        logs = call('POST', s + '/log', {'type': 'browser'}).get('value')
    if not isinstance(logs, list):
        print('FAIL: cannot read the console log: %s' % logs); sys.exit(1)
    call('POST', s + '/window/rect', {'width': WIDTH, 'height': min(int(info['height']) + 40, 16000)})
    time.sleep(0.3)
    png = call('GET', s + '/screenshot').get('value')
    if not isinstance(png, str):
        print('FAIL: no screenshot: %s' % png); sys.exit(1)
    os.makedirs(os.path.dirname(os.path.abspath(shot)), exist_ok=True)
    with open(shot, 'wb') as f:
        f.write(base64.b64decode(png))
    info['images'] = imgs
    info['console'] = [{'level': l.get('level'), 'message': l.get('message')} for l in logs]
    print(json.dumps(info))
finally:
    if sid:
        try:
            call('DELETE', '/session/' + sid, timeout=20)
        except Exception:
            pass
    proc.terminate()
    try:
        proc.wait(10)
    except Exception:
        proc.kill()
    shutil.rmtree(profile, ignore_errors=True)
EOF

cat >"$TRASH/verdict.py" <<'EOF'
import json, sys
info = json.load(open(sys.argv[1]))
want_imgs = int(sys.argv[2])
errors = [c for c in info['console'] if c['level'] == 'SEVERE']
assert not errors, 'console errors: %s' % errors
assert info['scripts'] == 0, 'the page runs a script'
assert not [r for r in info['resources'] if not r.startswith('data:')], 'network loads: %s' % info['resources']
imgs = info['images']
assert len(imgs) == want_imgs, 'found %d images, want %d: %s' % (len(imgs), want_imgs, [i['alt'] for i in imgs])
bad = [i for i in imgs if not i['complete'] or i['w'] <= 0 or i['h'] <= 0]
assert not bad, 'images that did not load: %s' % bad
for sec in ('provenance', 'dataset', 'images', 'weights', 'scores', 'confusion', 'permutations', 'timing'):
    assert sec in info['sections'], 'section %s missing' % sec
assert info['svgs'] >= 1, 'no chart'
print('browser ok: %d images loaded, %d charts, %d console messages, sections %s; not available: %s'
      % (len(imgs), info['svgs'], len(info['console']), ','.join(info['sections']), info['na']))
EOF

test_expect_success 'setup: nidec run configs/haxby-slice.ini (2 ranks, timings)' '
	(cd "$REPO_DIR" &&
	 $MPIRUN -n 2 $NIDEC run configs/haxby-slice.ini --timing -q --set output.dir="$TRASH/res") &&
	test -f res/summary.json && test -f res/weights_face.nii.gz
'

test_expect_success 'report of the run: written, self-contained' '
	$NIDEC report res &&
	test -s res/report.html &&
	! grep -q "<script" res/report.html &&
	grep -q "no permutations were run" res/report.html &&
	grep -q "Cross-validation wall time" res/report.html
'

if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
	test_skip 'report in headless Chromium' 'chromium or chromium-driver not installed (apt-get install chromium chromium-driver)'
else
	"$PYTHON" "$TRASH/browse.py" "$TRASH/res/report.html" "$ART/t4100-report.png" >"$TRASH/browse.json" 2>"$TRASH/browse.err"
	rc=$?
	if [ "$rc" = 77 ]; then
		test_skip 'report in headless Chromium' "$(cat "$TRASH/browse.json" "$TRASH/browse.err" | tr '\n' ' ' | cut -c1-200)"
	else
		test_expect_success 'report in headless Chromium: images loaded, no console error' '
			test "'"$rc"'" = 0 &&
			"$PYTHON" verdict.py browse.json 4
		'
		test_expect_success 'screenshot kept as a test artifact' '
			test -s "$ART/t4100-report.png" &&
			"$PYTHON" -c "
import struct, sys
b = open(sys.argv[1], \"rb\").read()
assert b[:8] == b\"\\x89PNG\\r\\n\\x1a\\n\", \"not a PNG\"
w, h = struct.unpack(\">II\", b[16:24])
assert w >= 1000 and h >= 2000, (w, h)
print(\"screenshot %dx%d\" % (w, h))
" "$ART/t4100-report.png"
		'
	fi
fi

test_done
