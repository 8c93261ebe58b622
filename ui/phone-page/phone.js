// The relay's browser phone: JsSIP over the relay's WebSocket listener, WebRTC audio through the
// relay's bridge to plain-RTP phones. Served by `dialtone relay --http ...`; config.js (written by
// the relay) sets window.DIALTONE_CONFIG = { wsUrl, domain }.
//
// The page is driven by hand or by tests through window.dialtone:
//   await dialtone.register({ user, password })      resolves when registered
//   dialtone.call('bob')                               places a call (user name or SIP URI)
//   dialtone.answer() / dialtone.hangup()
//   dialtone.sendDtmf('15#')                            RFC 4733 telephone-events (RTCDTMFSender) in the call's audio
//   dialtone.state()                                   { registration, call, peer, ... }
//   await dialtone.stats()                             getStats(): inbound/outbound RTP, codec, ICE pair
//   dialtone.heard()                                   { frequency, levelDb } of the remote audio (WebAudio analyser)
(() => {
  'use strict';
  const config = window.DIALTONE_CONFIG || {};
  const $ = (id) => document.getElementById(id);
  const state = {
    registration: 'not registered',
    call: 'idle',
    peer: '',
    direction: '',
    events: [],
    error: '',
  };
  let ua = null;
  let session = null;
  let audioContext = null;
  let analyser = null;
  let localStream = null;

  function note(text) {
    state.events.push({ at: Date.now(), text });
    const li = document.createElement('li');
    li.textContent = `${new Date().toLocaleTimeString()} ${text}`;
    $('log').prepend(li);
  }

  function render() {
    $('registration').textContent = state.registration;
    $('callstate').textContent = state.call;
    $('peer').textContent = state.peer;
    const registered = state.registration === 'registered';
    const inCall = state.call !== 'idle' && state.call !== 'ended' && state.call !== 'failed';
    $('register').disabled = registered;
    $('unregister').disabled = !registered;
    $('call').disabled = !registered || inCall;
    $('answer').disabled = state.call !== 'incoming';
    $('hangup').disabled = !inCall;
  }

  function context() {
    if (!audioContext) audioContext = new AudioContext();
    if (audioContext.state === 'suspended') audioContext.resume();
    return audioContext;
  }

  // What we send: the microphone (in tests Chromium's fake device playing a WAV file), or a tone.
  async function sendStream() {
    if ($('source').value === 'tone') {
      const ctx = context();
      const osc = ctx.createOscillator();
      osc.frequency.value = Number($('tone').value) || 700;
      const gain = ctx.createGain();
      gain.gain.value = 0.3;
      const dest = ctx.createMediaStreamDestination();
      osc.connect(gain).connect(dest);
      osc.start();
      return dest.stream;
    }
    return navigator.mediaDevices.getUserMedia({ audio: true, video: false });
  }

  const pcConfig = { iceServers: [], bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' };

  function attachRemote(stream) {
    const audio = $('remote');
    if (audio.srcObject === stream) return;
    audio.srcObject = stream; // Chromium delivers no samples to WebAudio unless the stream also plays
    audio.play().catch((e) => note(`audio element: ${e.message}`));
    const ctx = context();
    analyser = ctx.createAnalyser();
    analyser.fftSize = 8192;
    analyser.smoothingTimeConstant = 0.5;
    ctx.createMediaStreamSource(stream).connect(analyser);
    note('remote audio attached');
  }

  function watchConnection(s) {
    const hook = () => {
      const pc = s.connection;
      if (!pc) return false;
      pc.addEventListener('track', (e) => attachRemote(e.streams[0] || new MediaStream([e.track])));
      for (const r of pc.getReceivers()) {
        if (r.track && r.track.kind === 'audio') attachRemote(new MediaStream([r.track]));
      }
      pc.addEventListener('connectionstatechange', () => note(`peer connection ${pc.connectionState}`));
      return true;
    };
    if (!hook()) s.on('peerconnection', () => hook());
  }

  function track(s, direction) {
    session = s;
    state.direction = direction;
    state.peer = s.remote_identity ? s.remote_identity.uri.toString() : '';
    s.on('progress', () => { state.call = direction === 'outgoing' ? 'ringing' : state.call; render(); });
    s.on('accepted', () => { state.call = 'answered'; note('answered'); render(); });
    s.on('confirmed', () => { state.call = 'established'; note('established'); render(); });
    s.on('ended', (e) => { state.call = 'ended'; note(`ended (${e.cause})`); stopLocal(); render(); });
    s.on('failed', (e) => {
      state.call = 'failed';
      state.error = e.cause;
      note(`failed (${e.cause}${e.message && e.message.status_code ? ' ' + e.message.status_code : ''})`);
      stopLocal();
      render();
    });
    watchConnection(s);
  }

  function stopLocal() {
    if (localStream) localStream.getTracks().forEach((t) => t.stop());
    localStream = null;
  }

  function register({ user, password } = {}) {
    user = user || $('user').value.trim();
    password = password || $('password').value;
    if (!config.wsUrl) return Promise.reject(new Error('the relay has no WebSocket listener'));
    if (ua) ua.stop();
    const socket = new JsSIP.WebSocketInterface(config.wsUrl);
    ua = new JsSIP.UA({
      sockets: [socket],
      uri: `sip:${user}@${config.domain}`,
      password,
      register: true,
      session_timers: false,
      user_agent: 'Dialtone browser phone (JsSIP)',
    });
    state.registration = 'registering';
    render();
    const done = new Promise((resolve, reject) => {
      ua.on('registered', () => { state.registration = 'registered'; note(`registered as ${user}`); render(); resolve(); });
      ua.on('registrationFailed', (e) => {
        state.registration = `failed: ${e.cause}`;
        note(`registration failed (${e.cause})`);
        render();
        reject(new Error(e.cause));
      });
    });
    ua.on('unregistered', () => { state.registration = 'not registered'; render(); });
    ua.on('newRTCSession', ({ originator, session: s }) => {
      if (originator !== 'remote') return;
      if (session && !session.isEnded()) { s.terminate({ status_code: 486 }); return; }
      track(s, 'incoming');
      state.call = 'incoming';
      note(`incoming call from ${state.peer}`);
      render();
      if ($('autoanswer').checked) answer();
    });
    ua.start();
    return done;
  }

  async function call(target) {
    target = target || $('target').value.trim();
    if (!target.includes(':')) target = `sip:${target}@${config.domain}`;
    localStream = await sendStream();
    state.call = 'calling';
    state.error = '';
    note(`calling ${target}`);
    const s = ua.call(target, { mediaStream: localStream, pcConfig });
    track(s, 'outgoing');
    render();
  }

  async function answer() {
    if (!session || state.call !== 'incoming') return;
    localStream = await sendStream();
    session.answer({ mediaStream: localStream, pcConfig });
    note('answering');
  }

  function hangup() {
    if (session && !session.isEnded()) session.terminate();
  }

  // DTMF as RFC 4733 telephone-events in the media stream (JsSIP's 'RFC2833' transport: RTCDTMFSender), not SIP INFO.
  function sendDtmf(tones) {
    if (!session || session.isEnded()) throw new Error('no call');
    session.sendDTMF(tones, { transportType: 'RFC2833', duration: 160, interToneGap: 100 });
    note(`sent DTMF ${tones} (RFC 4733)`);
  }

  async function stats() {
    const out = { bytesReceived: 0, packetsReceived: 0, bytesSent: 0, packetsSent: 0, codec: '', pair: '' };
    const pc = session && session.connection;
    if (!pc) return out;
    const report = await pc.getStats();
    const codecs = {};
    report.forEach((s) => { if (s.type === 'codec') codecs[s.id] = s.mimeType; });
    report.forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'audio') {
        out.bytesReceived += s.bytesReceived || 0;
        out.packetsReceived += s.packetsReceived || 0;
        out.codec = codecs[s.codecId] || out.codec;
      } else if (s.type === 'outbound-rtp' && s.kind === 'audio') {
        out.bytesSent += s.bytesSent || 0;
        out.packetsSent += s.packetsSent || 0;
      } else if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') {
        const local = report.get(s.localCandidateId);
        const remote = report.get(s.remoteCandidateId);
        out.pair = `${local && local.address}:${local && local.port} -> ${remote && remote.address}:${remote && remote.port}`;
      }
    });
    return out;
  }

  // The dominant frequency of what we hear (ignoring below 100 Hz) and its level.
  function heard() {
    if (!analyser) return { frequency: 0, levelDb: -Infinity };
    const bins = new Float32Array(analyser.frequencyBinCount);
    analyser.getFloatFrequencyData(bins);
    const hz = audioContext.sampleRate / analyser.fftSize;
    let best = -1;
    for (let i = Math.ceil(100 / hz); i < bins.length; i++) {
      if (best < 0 || bins[i] > bins[best]) best = i;
    }
    const result = { frequency: Math.round(best * hz), levelDb: Math.round(bins[best]) };
    $('heard').textContent = result.levelDb > -100 ? `${result.frequency} Hz at ${result.levelDb} dB` : 'silence';
    return result;
  }

  $('relay').textContent = config.wsUrl || '(no WebSocket listener)';
  $('register').onclick = () => register().catch(() => {});
  $('unregister').onclick = () => { if (ua) ua.unregister(); };
  $('call').onclick = () => call().catch((e) => note(`call: ${e.message}`));
  $('answer').onclick = () => answer().catch((e) => note(`answer: ${e.message}`));
  $('hangup').onclick = hangup;
  setInterval(() => { if (analyser) heard(); }, 500);
  render();

  window.dialtone = {
    register,
    call,
    answer,
    hangup,
    sendDtmf,
    stats,
    heard,
    state: () => JSON.parse(JSON.stringify(state)),
    setAutoAnswer: (on) => { $('autoanswer').checked = !!on; },
    setSource: (source, hz) => { $('source').value = source; if (hz) $('tone').value = hz; },
  };
})();
