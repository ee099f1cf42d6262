//! The crate's one use of `unsafe`: running a hot loop compiled for the widest vector instructions the
//! CPU has. The loops themselves are plain Rust: a `Kernel` whose `run` is `#[inline(always)]` (a closure
//! would not do: the compiler keeps a large closure out of line, compiled without the wrapper's
//! instructions), so they are compiled again inside each wrapper below; the results are the same
//! on every path, because the loops do integer work and per-row floating-point work in one fixed order
//! (vectors run across rows, never across one row's sum). Tests compare the dispatched and portable paths.

/// A hot loop to compile once per instruction set; `run` must be `#[inline(always)]`.
pub(crate) trait Kernel {
    type Out;
    fn run(self) -> Self::Out;
}

/// Runs `f` compiled for AVX-512 (F, VL, BW, DQ) or AVX2 when this CPU has them, else as compiled.
#[inline(always)]
pub(crate) fn widest<K: Kernel>(f: K) -> K::Out {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::is_x86_feature_detected as has;
        if has!("avx512f") && has!("avx512vl") && has!("avx512bw") && has!("avx512dq") {
            // SAFETY: `avx512` needs exactly the features detected on this CPU on the line above.
            return unsafe { avx512(f) };
        }
        if has!("avx2") {
            // SAFETY: `avx2` needs AVX2, detected on this CPU on the line above.
            return unsafe { avx2(f) };
        }
    }
    f.run()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vl,avx512bw,avx512dq")]
fn avx512<K: Kernel>(f: K) -> K::Out {
    f.run()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn avx2<K: Kernel>(f: K) -> K::Out {
    f.run()
}

/// `tile_tree::descend_portable` sixteen rows to a vector with AVX-512 gathers, or eight with AVX2, when
/// this CPU has them (the compiler will not vectorize that loop's gathers by itself); `false`, doing
/// nothing, otherwise. `hi` and `offset` are the padded steps (a power-of-two length), `q` the tile's codes (a
/// power-of-two length), `leaf` the leaf each bottom slot stands for, `ids` a tile's rows, written with
/// their leaves' heap ids.
#[inline(always)]
pub(crate) fn descend_vectors(hi: &[u32], offset: &[u32], leaf: &[u32], depth: usize, q: &[u32], ids: &mut [u32]) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::is_x86_feature_detected as has;
        let (avx512, avx2) = (has!("avx512f"), has!("avx2"));
        if avx512 || avx2 {
            assert!(hi.len() == offset.len() && hi.len() == leaf.len() && hi.len().is_power_of_two() && q.len().is_power_of_two());
            assert!(q.len() <= i32::MAX as usize && hi.len() <= i32::MAX as usize);
        }
        // SAFETY (both calls): the instructions were detected on this CPU just above; every gather index is
        // masked to its slice's power-of-two length, checked just above, so each gather reads inside `hi`,
        // `offset`, `leaf` or `q`.
        if avx512 {
            unsafe { descend16(hi, offset, leaf, depth, q, ids) };
            return true;
        }
        if avx2 {
            unsafe { descend8(hi, offset, leaf, depth, q, ids) };
            return true;
        }
    }
    false
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn descend16(hi: &[u32], offset: &[u32], leaf: &[u32], depth: usize, q: &[u32], ids: &mut [u32]) {
    use crate::tile_tree::{CATEGORICAL, LANES, MISSING_LEFT, OFFSET};
    use std::arch::x86_64::*;
    const V: usize = LANES / 16;
    let splat = |x: u32| _mm512_set1_epi32(x as i32);
    let (step_mask, q_mask) = (splat(hi.len() as u32 - 1), splat(q.len() as u32 - 1));
    let (one, offset_bits, missing_left, categorical) = (splat(1), splat(OFFSET), splat(MISSING_LEFT), splat(CATEGORICAL));
    let iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    // The top five levels' steps (ids below 32) sit in two registers each, looked up by permutes.
    let top = |steps: &[u32]| {
        let mut t = [0u32; 32];
        let n = steps.len().min(32);
        t[..n].copy_from_slice(&steps[..n]);
        // SAFETY: `t` holds 32 u32s, two vectors' worth.
        unsafe { (_mm512_loadu_si512(t.as_ptr() as _), _mm512_loadu_si512(t.as_ptr().add(16) as _)) }
    };
    let ((hi0, hi1), (offset0, offset1)) = (top(hi), top(offset));
    for (c, chunk) in ids.chunks_mut(LANES).enumerate() {
        let mut id = [one; V];
        let lane: [__m512i; V] = std::array::from_fn(|v| _mm512_add_epi32(iota, splat((c * LANES + 16 * v) as u32)));
        for level in 0..depth {
            for (id, lane) in id.iter_mut().zip(&lane) {
                let i = _mm512_and_si512(*id, step_mask);
                // SAFETY (all three gathers): indices are masked to the slice's length (see the caller).
                let (o, h) = if level < 5 {
                    (_mm512_permutex2var_epi32(offset0, i, offset1), _mm512_permutex2var_epi32(hi0, i, hi1))
                } else {
                    unsafe { (_mm512_i32gather_epi32::<4>(i, offset.as_ptr() as _), _mm512_i32gather_epi32::<4>(i, hi.as_ptr() as _)) }
                };
                let at = _mm512_and_si512(_mm512_add_epi32(_mm512_and_si512(o, offset_bits), *lane), q_mask);
                let code = unsafe { _mm512_i32gather_epi32::<4>(at, q.as_ptr() as _) };
                let lo = _mm512_mask_blend_epi32(_mm512_test_epi32_mask(o, categorical), one, h);
                let outside = _mm512_cmplt_epu32_mask(code, lo) | _mm512_cmpgt_epu32_mask(code, h);
                let flip = _mm512_cmpeq_epi32_mask(code, _mm512_setzero_si512()) & _mm512_test_epi32_mask(o, missing_left);
                let twice = _mm512_add_epi32(*id, *id);
                *id = _mm512_mask_add_epi32(twice, outside ^ flip, twice, one);
            }
        }
        let mut out = [0u32; LANES];
        for (v, &id) in id.iter().enumerate() {
            // Bottom id `2^depth + s` is slot `s = id & step_mask`, whose leaf `leaf` holds.
            let slot = _mm512_and_si512(id, step_mask);
            // SAFETY: the slot is masked to `leaf`'s length; `out` holds LANES = 16 * V u32s, vector v at 16 * v.
            unsafe { _mm512_storeu_si512(out.as_mut_ptr().add(16 * v) as _, _mm512_i32gather_epi32::<4>(slot, leaf.as_ptr() as _)) };
        }
        chunk.copy_from_slice(&out[..chunk.len()]);
    }
}

/// `descend16` with AVX2: eight rows to a vector, every level's steps gathered. AVX2 compares only signed
/// integers, which order codes and `hi` as unsigned ones do since both are below 2^30; a true comparison
/// is all ones (-1), so `2·id − right` takes the right child.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn descend8(hi: &[u32], offset: &[u32], leaf: &[u32], depth: usize, q: &[u32], ids: &mut [u32]) {
    use crate::tile_tree::{CATEGORICAL, LANES, MISSING_LEFT, OFFSET};
    use std::arch::x86_64::*;
    const V: usize = LANES / 8;
    let splat = |x: u32| _mm256_set1_epi32(x as i32);
    let (step_mask, q_mask) = (splat(hi.len() as u32 - 1), splat(q.len() as u32 - 1));
    let (one, offset_bits, missing_left, categorical) = (splat(1), splat(OFFSET), splat(MISSING_LEFT), splat(CATEGORICAL));
    let iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    for (c, chunk) in ids.chunks_mut(LANES).enumerate() {
        let mut id = [one; V];
        let lane: [__m256i; V] = std::array::from_fn(|v| _mm256_add_epi32(iota, splat((c * LANES + 8 * v) as u32)));
        for _ in 0..depth {
            for (id, lane) in id.iter_mut().zip(&lane) {
                let i = _mm256_and_si256(*id, step_mask);
                // SAFETY (all three gathers): indices are masked to the slice's length (see the caller).
                let (o, h) =
                    unsafe { (_mm256_i32gather_epi32::<4>(offset.as_ptr() as _, i), _mm256_i32gather_epi32::<4>(hi.as_ptr() as _, i)) };
                let at = _mm256_and_si256(_mm256_add_epi32(_mm256_and_si256(o, offset_bits), *lane), q_mask);
                let code = unsafe { _mm256_i32gather_epi32::<4>(q.as_ptr() as _, at) };
                let is_categorical = _mm256_cmpeq_epi32(_mm256_and_si256(o, categorical), categorical);
                let lo = _mm256_blendv_epi8(one, h, is_categorical);
                let outside = _mm256_or_si256(_mm256_cmpgt_epi32(lo, code), _mm256_cmpgt_epi32(code, h));
                let flip = _mm256_and_si256(
                    _mm256_cmpeq_epi32(code, _mm256_setzero_si256()),
                    _mm256_cmpeq_epi32(_mm256_and_si256(o, missing_left), missing_left),
                );
                *id = _mm256_sub_epi32(_mm256_add_epi32(*id, *id), _mm256_xor_si256(outside, flip));
            }
        }
        let mut out = [0u32; LANES];
        for (v, &id) in id.iter().enumerate() {
            let slot = _mm256_and_si256(id, step_mask);
            // SAFETY: the slot is masked to `leaf`'s length; `out` holds LANES = 8 * V u32s, vector v at 8 * v.
            unsafe { _mm256_storeu_si256(out.as_mut_ptr().add(8 * v) as _, _mm256_i32gather_epi32::<4>(leaf.as_ptr() as _, slot)) };
        }
        chunk.copy_from_slice(&out[..chunk.len()]);
    }
}

/// Every vector path this CPU can run, each one's output for the same walk (tests compare them with the
/// portable loop).
#[cfg(test)]
pub(crate) fn descend_every_path(
    hi: &[u32],
    offset: &[u32],
    leaf: &[u32],
    depth: usize,
    q: &[u32],
    n: usize,
) -> Vec<(&'static str, Vec<u32>)> {
    let mut out = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::is_x86_feature_detected as has;
        assert!(hi.len() == offset.len() && hi.len() == leaf.len() && hi.len().is_power_of_two() && q.len().is_power_of_two());
        if has!("avx512f") {
            let mut ids = vec![0; n];
            // SAFETY: as in `descend_vectors`: detected just above, lengths checked just above.
            unsafe { descend16(hi, offset, leaf, depth, q, &mut ids) };
            out.push(("avx512", ids));
        }
        if has!("avx2") {
            let mut ids = vec![0; n];
            // SAFETY: as in `descend_vectors`: detected just above, lengths checked just above.
            unsafe { descend8(hi, offset, leaf, depth, q, &mut ids) };
            out.push(("avx2", ids));
        }
    }
    out
}
