//! Keeping an in-memory store bounded: when a map reaches its cap, drop the entries that rank
//! lowest (least recently used, soonest to expire) until a tenth of the cap is free again, so the
//! next eviction is a tenth of the cap away and the cost per insert stays constant on average.

use std::collections::HashMap;
use std::hash::Hash;

/// When `map` holds `cap` entries or more, removes the lowest-ranked ones until it holds 90% of
/// `cap`. Entries with equal rank go in no particular order.
pub fn evict_lowest<K: Eq + Hash, V, S: std::hash::BuildHasher>(
    map: &mut HashMap<K, V, S>,
    cap: usize,
    rank: impl Fn(&V) -> i64,
) {
    if map.len() < cap || cap == 0 {
        return;
    }
    let keep = cap - cap / 10;
    let cut = map.len() - keep;
    if cut == 0 {
        return;
    }
    let mut ranks: Vec<i64> = map.values().map(&rank).collect();
    let (_, nth, _) = ranks.select_nth_unstable(cut - 1);
    let threshold = *nth;
    let mut removed = 0;
    map.retain(|_, v| {
        let go = removed < cut && rank(v) <= threshold;
        removed += usize::from(go);
        !go
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_map_loses_its_lowest_tenth() {
        let mut m: HashMap<u32, i64> = (0..100).map(|i| (i, i64::from(i))).collect();
        evict_lowest(&mut m, 200, |v| *v);
        assert_eq!(m.len(), 100, "under the cap nothing goes");
        evict_lowest(&mut m, 100, |v| *v);
        assert_eq!(m.len(), 90);
        assert!((0..10).all(|i| !m.contains_key(&i)));
        assert!((10..100).all(|i| m.contains_key(&i)));
        // Ties: exactly enough go.
        let mut m: HashMap<u32, i64> = (0..50).map(|i| (i, 7)).collect();
        evict_lowest(&mut m, 50, |v| *v);
        assert_eq!(m.len(), 45);
    }
}
