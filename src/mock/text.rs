//! The seeded, deterministic text the mock server streams: English-like tokens (a
//! leading-space word, punctuation, sometimes a newline; non-ASCII words only when asked),
//! one `&'static str` per token so producing one costs no allocation. Also the
//! deterministic prompt-token count. Wire formats are the provider files' job.

/// A small, fast, seeded PRNG (`SplitMix64`); the same seed gives the same numbers.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator whose sequence is fixed by `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// A number in `0..n` (`0` when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }
}

/// `SplitMix64`'s finaliser: a bijective scramble of 64 bits.
pub fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

const WORDS: &[&str] = &[
    " sparkling",
    " water",
    " bubbles",
    " glass",
    " fresh",
    " cold",
    " lemon",
    " lime",
    " taste",
    " clear",
    " light",
    " summer",
    " river",
    " stone",
    " mineral",
    " spring",
    " bottle",
    " pour",
    " rise",
    " gentle",
    " bright",
    " morning",
    " evening",
    " song",
    " verse",
    " the",
    " a",
    " of",
    " and",
    " in",
    " with",
    " to",
    " is",
    " was",
    " every",
    " each",
    " little",
    " quiet",
    " sound",
    " fizz",
    " sip",
    " cool",
    " day",
    " night",
    " heart",
    " dance",
    " sun",
    " moon",
    " sky",
    " blue",
    " silver",
    " gold",
    " drop",
    " wave",
    " sea",
    " shore",
    " breeze",
    " sweet",
    " soft",
    " crisp",
    " clean",
    " pure",
    " joy",
    " laugh",
    " friend",
    " table",
    " ice",
    " cube",
    " slice",
    " mint",
    " leaf",
    " green",
    " field",
    " hill",
    " valley",
    " rain",
    " cloud",
    " storm",
    " calm",
    " peace",
    " time",
    " memory",
    " dream",
    " story",
    " world",
    " home",
    " road",
    " journey",
    " path",
    " we",
    " you",
    " they",
    " it",
    " our",
    " your",
    " this",
    " that",
    " there",
    " here",
    " always",
    " never",
    " often",
    " softly",
    " slowly",
    " brightly",
    " together",
    " again",
    " sings",
    " shines",
    " flows",
    " falls",
    " glows",
    " sparkles",
    " fills",
    " lifts",
    " carries",
    " brings",
    " holds",
    " finds",
    " makes",
    " feels",
    " knows",
    " remembers",
];

const STARTS: &[&str] = &[
    "The",
    "A",
    "In",
    "Every",
    "Sparkling",
    "Cold",
    "Bright",
    "We",
    "Our",
    "This",
    "With",
];

const SPACED_STARTS: &[&str] = &[
    " The",
    " A",
    " In",
    " Every",
    " Sparkling",
    " Cold",
    " Bright",
    " We",
    " Our",
    " This",
    " With",
];

const UNICODE_WORDS: &[&str] = &[
    " café",
    " naïve",
    " über",
    " São",
    " crème",
    " 東京",
    " こんにちは",
    " 🥂",
    " ✨",
    " Ελλάδα",
    " Привет",
    " 水",
    " façade",
    " jalapeño",
];

/// Where the generator is within a sentence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// The very first token: a capitalised word with no leading space.
    First,
    /// After a newline: a capitalised word with no leading space.
    LineStart,
    /// After a full stop: a capitalised word with a leading space, or a newline.
    SentenceEnd,
    /// Mid-sentence: a word, or punctuation.
    Middle,
}

/// An endless, deterministic token source for one seed.
#[derive(Debug, Clone)]
pub struct TextGen {
    rng: Rng,
    place: Place,
    unicode: bool,
    words_in_sentence: u32,
}

impl TextGen {
    /// A generator for `seed`; `unicode` lets about one word in twenty be non-ASCII.
    pub fn new(seed: u64, unicode: bool) -> Self {
        Self {
            rng: Rng::new(mix(seed ^ 0x005E_ED0F_5E17_2E12)),
            place: Place::First,
            unicode,
            words_in_sentence: 0,
        }
    }

    /// The next token.
    pub fn next_token(&mut self) -> &'static str {
        let roll = self.rng.below(100);
        match self.place {
            Place::First | Place::LineStart => {
                self.place = Place::Middle;
                self.words_in_sentence = 1;
                pick(&mut self.rng, STARTS)
            }
            Place::SentenceEnd if roll < 25 => {
                self.place = Place::LineStart;
                "\n"
            }
            Place::SentenceEnd => {
                self.place = Place::Middle;
                self.words_in_sentence = 1;
                pick(&mut self.rng, SPACED_STARTS)
            }
            Place::Middle if self.words_in_sentence >= 4 && roll < 9 => {
                self.place = Place::SentenceEnd;
                "."
            }
            Place::Middle if self.words_in_sentence >= 2 && roll < 16 => {
                self.words_in_sentence = 1;
                ","
            }
            Place::Middle => {
                self.words_in_sentence += 1;
                if self.unicode && roll >= 95 {
                    pick(&mut self.rng, UNICODE_WORDS)
                } else {
                    pick(&mut self.rng, WORDS)
                }
            }
        }
    }
}

fn pick(rng: &mut Rng, list: &[&'static str]) -> &'static str {
    let i = usize::try_from(rng.below(list.len() as u64)).unwrap_or(0);
    list.get(i).copied().unwrap_or(" water")
}

/// The seed of choice `choice` of a request seeded `seed` (choice 0 keeps the seed, so
/// `expected_text(seed, ..)` is choice 0's text).
pub fn choice_seed(seed: u64, choice: u32) -> u64 {
    if choice == 0 {
        seed
    } else {
        mix(seed ^ u64::from(choice).wrapping_mul(0xA24B_AED4_963E_E407))
    }
}

/// The text of the first `tokens` tokens for `seed`: what a client must reassemble.
pub fn expected_text(seed: u64, tokens: u64, unicode: bool) -> String {
    let mut gen = TextGen::new(seed, unicode);
    let mut text = String::new();
    for _ in 0..tokens {
        text.push_str(gen.next_token());
    }
    text
}

/// The deterministic prompt-token count of a text: its whitespace-separated words.
pub fn count_words(text: &str) -> u64 {
    text.split_whitespace().count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_text_other_seed_other_text() {
        assert_eq!(expected_text(7, 200, false), expected_text(7, 200, false));
        assert_ne!(expected_text(7, 200, false), expected_text(8, 200, false));
    }

    #[test]
    fn ascii_unless_unicode_asked() {
        assert!(expected_text(3, 5000, false).is_ascii());
        assert!(!expected_text(3, 5000, true).is_ascii());
    }

    #[test]
    fn tokens_look_like_words_and_punctuation() {
        let mut gen = TextGen::new(1, false);
        let first = gen.next_token();
        assert!(!first.starts_with(' '));
        let mut newlines = 0;
        for _ in 0..10_000 {
            let t = gen.next_token();
            assert!(!t.is_empty());
            assert!(t.starts_with(' ') || [",", ".", "\n"].contains(&t) || !t.contains(' '));
            newlines += usize::from(t == "\n");
        }
        assert!(newlines > 0);
    }

    #[test]
    fn counts_words() {
        assert_eq!(count_words("  Write me a\n1 verse song. "), 6);
        assert_eq!(count_words(""), 0);
    }
}
