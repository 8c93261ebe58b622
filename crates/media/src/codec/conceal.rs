//! Packet-loss concealment for codecs without their own: repeat the last decoded
//! audio and fade it out (about 60 ms to silence), the simplest of the methods that
//! ITU-T G.711 Appendix I improves on.

/// Concealment fades to silence over this many milliseconds.
const FADE_MS: usize = 60;

/// Remembers recent audio and makes up lost frames from it.
#[derive(Debug, Clone)]
pub struct FadeConcealer {
    history: Vec<i16>,
    /// How far into the current loss we are, in samples.
    lost: usize,
    fade_len: usize,
}

impl FadeConcealer {
    /// A concealer for audio at `rate` Hz.
    pub fn new(rate: u32) -> FadeConcealer {
        FadeConcealer {
            history: Vec::new(),
            lost: 0,
            fade_len: (rate as usize * FADE_MS / 1000).max(1),
        }
    }

    /// Remembers decoded audio (call with every decoded frame).
    pub fn remember(&mut self, pcm: &[i16]) {
        self.lost = 0;
        self.history.clear();
        self.history.extend_from_slice(pcm);
    }

    /// Appends `samples` of concealment: the last frame repeated, fading linearly.
    pub fn conceal(&mut self, samples: usize, out: &mut Vec<i16>) {
        out.reserve(samples);
        for i in 0..samples {
            let pos = self.lost + i;
            let value = if self.history.is_empty() || pos >= self.fade_len {
                0
            } else {
                let x = f32::from(self.history[pos % self.history.len()]);
                let gain = 1.0 - pos as f32 / self.fade_len as f32;
                (x * gain) as i16
            };
            out.push(value);
        }
        self.lost += samples;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_then_fades_to_silence() {
        let mut c = FadeConcealer::new(8000);
        c.remember(&[1000; 160]);
        let mut out = Vec::new();
        c.conceal(160, &mut out);
        assert_eq!(out[0], 1000);
        assert!(out[159] < 700 && out[159] > 600, "{}", out[159]);
        c.conceal(480, &mut out);
        assert!(out[480..].iter().all(|&x| x == 0));
        c.remember(&[5; 10]);
        let mut again = Vec::new();
        c.conceal(1, &mut again);
        assert_eq!(again, vec![5]);
    }
}
