//! Every supported path against the scalar one, bit for bit; and the bulk
//! kernels against the incremental indicators.

use proptest::prelude::*;

use super::*;
use crate::features::ta::Ema;

fn paths() -> Vec<Kernels> {
    Kernels::all_supported()
}

pub(crate) fn bits(x: &[f64]) -> Vec<u64> {
    x.iter().map(|v| v.to_bits()).collect()
}

/// Prices around 30 000 with cent-level noise: finite, positive.
fn prices() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(1.0f64..60_000.0, 0..200)
}

proptest! {
    #[test]
    fn element_wise_kernels_match_scalar(c in prices(), w in prop::collection::vec(0.0f64..50.0, 200)) {
        let scalar = Kernels::new(Isa::Scalar).unwrap();
        let n = c.len();
        let h: Vec<f64> = c.iter().zip(&w).map(|(c, w)| c + w).collect();
        let l: Vec<f64> = c.iter().zip(&w).map(|(c, w)| c - w * 0.5).collect();
        let mut want_tr = vec![0.0; n];
        scalar.true_range(&h, &l, &c, &mut want_tr);
        let mut want_ret = vec![0.0; n.saturating_sub(1)];
        if n > 0 {
            scalar.returns_bps(&c, &mut want_ret);
        }
        let mut want_imb = vec![0.0; n];
        scalar.imbalance(&h, &l, &mut want_imb);
        for k in paths() {
            let mut tr = vec![0.0; n];
            k.true_range(&h, &l, &c, &mut tr);
            prop_assert_eq!(bits(&tr), bits(&want_tr), "true_range on {}", k.isa());
            if n > 0 {
                let mut ret = vec![0.0; n - 1];
                k.returns_bps(&c, &mut ret);
                prop_assert_eq!(bits(&ret), bits(&want_ret), "returns on {}", k.isa());
            }
            let mut imb = vec![0.0; n];
            k.imbalance(&h, &l, &mut imb);
            prop_assert_eq!(bits(&imb), bits(&want_imb), "imbalance on {}", k.isa());
        }
    }

    #[test]
    fn reductions_match_scalar_bit_for_bit(a in prices(), b in prices()) {
        let n = a.len().min(b.len());
        let (a, b) = (&a[..n], &b[..n]);
        let scalar = Kernels::new(Isa::Scalar).unwrap();
        for k in paths() {
            prop_assert_eq!(k.sum(a).to_bits(), scalar.sum(a).to_bits(), "sum on {}", k.isa());
            prop_assert_eq!(k.dot(a, b).to_bits(), scalar.dot(a, b).to_bits(), "dot on {}", k.isa());
        }
        // The canonical order is a reordering of the plain sum: close to it.
        let plain: f64 = a.iter().sum();
        prop_assert!((scalar.sum(a) - plain).abs() <= 1e-9 * plain.abs().max(1.0));
    }

    #[test]
    fn ema_step_across_symbols_equals_each_incremental_ema(
        series in prop::collection::vec(prop::collection::vec(1.0f64..60_000.0, 40), 1..70),
        periods in prop::collection::vec(1usize..20, 70),
    ) {
        // Lane j is symbol j with its own period; warm each lane with its
        // SMA seed the way `ta::Ema` does, then step all lanes at once.
        let lanes = series.len();
        let mut want: Vec<Ema> = (0..lanes).map(|j| Ema::new(periods[j])).collect();
        let mut expected = vec![0.0; lanes];
        for k in paths() {
            let mut v = vec![0.0; lanes];
            let kk: Vec<f64> = (0..lanes).map(|j| 2.0 / ((periods[j] + 1) as f64)).collect();
            for (j, s) in series.iter().enumerate() {
                let n = periods[j];
                v[j] = s[..n].iter().sum::<f64>() / n as f64;
            }
            for t in 20..40 {
                let x: Vec<f64> = series.iter().map(|s| s[t]).collect();
                k.ema_step(&mut v, &x, &kk);
            }
            if k.isa() == Isa::Scalar {
                // The incremental EMA over the same inputs: first `n`
                // values seed it, values n..20 are skipped here, so feed
                // the seed and then 20..40 (what the lanes saw).
                for (j, s) in series.iter().enumerate() {
                    let e = &mut want[j];
                    for &x in &s[..periods[j]] {
                        e.update(x);
                    }
                    for &x in &s[20..40] {
                        expected[j] = e.update(x).unwrap();
                    }
                }
            }
            prop_assert_eq!(bits(&v), bits(&expected), "ema_step on {}", k.isa());
        }
    }

}

#[test]
fn a_forced_path_is_checked() {
    assert_eq!(Isa::parse("scalar"), Ok(Isa::Scalar));
    assert!(matches!(Isa::parse("sse9"), Err(IsaError::Unknown(_))));
    let e = IsaError::Unsupported(Isa::Avx512, "scalar".into()).to_string();
    assert_eq!(
        e,
        "kernel path avx512: this CPU does not support it (supported: scalar)"
    );
    assert!(Isa::supported().contains(&Isa::detect()));
    // A setting wins over the environment (whatever the environment holds).
    assert_eq!(
        Isa::choose(Some("scalar")),
        Ok((Isa::Scalar, IsaSource::Setting))
    );
    assert_eq!(
        Isa::choose(Some("auto")),
        Ok((Isa::detect(), IsaSource::Detected))
    );
    println!("kernel paths on this CPU: {:?}", Isa::supported());
}
