//! A fixed-size bit set: the visited marks of a walk. One bit per node
//! keeps the marks of a million-node graph (128 KiB) in the L2 cache,
//! where a `Vec<u32>` of depths (4 MiB) would miss on every edge.

pub struct Bits(Vec<u64>);

impl Bits {
    pub fn new(n: usize) -> Self {
        Bits(vec![0; n.div_ceil(64)])
    }

    #[inline]
    pub fn contains(&self, i: u32) -> bool {
        self.0[(i >> 6) as usize] & (1 << (i & 63)) != 0
    }

    /// Sets bit `i`; `true` if it was not set before.
    #[inline]
    pub fn insert(&mut self, i: u32) -> bool {
        let word = &mut self.0[(i >> 6) as usize];
        let mask = 1 << (i & 63);
        let new = *word & mask == 0;
        *word |= mask;
        new
    }

    #[inline]
    pub fn remove(&mut self, i: u32) {
        self.0[(i >> 6) as usize] &= !(1 << (i & 63));
    }
}
