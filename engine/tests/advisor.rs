//! The advisor's bounded authority through the whole core: feature vectors
//! handed out at each base bar once warm; a prediction about them kept;
//! `gate` refusing an entry the model leans against, `advise` cutting its
//! size and never raising it; no fresh advice under `gate` opening
//! nothing, alerted once; predictions about nothing refused. Each entry an
//! advised instance proposes leaves an `Advice` record with both inputs.

use autobot_engine::config::CoreConfig;
use autobot_engine::event::{
    AdviceVerdict, AlertCode, FeatureParts, InputBody, OutputBody, OutputEvent, PPM, Prediction,
    Source, Stance,
};
use autobot_engine::regime::Regime;
use autobot_engine::strategy::{AdvisorMode, AdvisorUse, InstanceConfig, StrategyKind};
use autobot_engine::types::{Qty, Seq};

mod common;
use common::SEC;
use common::scene::{Scene, config, signals};

/// Mean reversion on 1 s bars, advised by model "m" in `mode`.
fn advised(mode: AdvisorMode, weight: Option<&str>) -> CoreConfig {
    let mut inst = InstanceConfig::new(StrategyKind::MeanReversion, &[Regime::Range]);
    inst.advisor = Some(AdvisorUse {
        mode,
        model: "m".into(),
        weight: weight.map(|w| w.parse().unwrap()),
        min_prob: None,
        max_age_secs: None,
        max_inputs: None,
    });
    let mut c = config(inst);
    c.models = vec!["m".into()];
    c
}

/// One quiet second around 60 000 (ETHUSDT quoted too, so the other
/// symbol never goes stale and holds new risk).
fn quiet(s: &mut Scene, i: u32) -> Vec<OutputEvent> {
    let mut outs = s.second(60_000.0 + f64::from(i % 3));
    outs.extend(s.h.book(1, "2499.99", "2500.01", "100"));
    outs
}

/// The newest whole feature vector in `outs`: its cause.
fn last_features(outs: &[OutputEvent]) -> Option<Seq> {
    let mut parts = FeatureParts::default();
    outs.iter()
        .filter_map(|o| parts.push(o))
        .map(|(_, seq, _)| seq)
        .last()
}

/// A prediction of model 0 about the newest features, P(up) = `p`.
fn predict(s: &mut Scene, p: f32) -> Vec<OutputEvent> {
    let about = last_features(&s.h.outs).expect("features handed out");
    let body = InputBody::Prediction(Prediction::from_probability(0, 15, p, about));
    s.h.feed(Source::Advisor, 0, s.h.now, body)
}

/// 70 quiet seconds (the vector warms in 61 bars), then the drop that
/// makes mean reversion buy below the band, with a prediction of P(up)
/// `p` (none: `None`) about the bar before the one that decides.
fn drop_after(s: &mut Scene, p: Option<f32>) -> Vec<OutputEvent> {
    for i in 0..70 {
        quiet(s, i);
    }
    let mut outs = s.second(59_990.0);
    // As the advisor stage would: a prediction about the bar just closed.
    if let Some(p) = p {
        assert!(predict(s, p).is_empty(), "a prediction alone emits nothing");
    }
    outs.extend(s.second(59_990.0));
    outs
}

fn advice(outs: &[OutputEvent]) -> Vec<autobot_engine::event::Advice> {
    outs.iter()
        .filter_map(|o| match o.body {
            OutputBody::Advice(a) => Some(a),
            _ => None,
        })
        .collect()
}

/// The long entry's size without an advisor.
fn unadvised_size() -> Qty {
    let mut s = Scene::with(&advised(AdvisorMode::Off, None));
    let outs = drop_after(&mut s, None);
    assert!(advice(&outs).is_empty(), "off: no record");
    let sig = signals(&outs);
    assert_eq!(sig.len(), 1, "{sig:#?}");
    assert_eq!(sig[0].stance, Stance::Long);
    sig[0].qty
}

#[test]
fn vectors_are_handed_out_once_warm_and_only_with_a_model() {
    let mut s = Scene::with(&advised(AdvisorMode::Advise, None));
    for i in 0..70 {
        quiet(&mut s, i);
    }
    let whole = {
        let mut parts = FeatureParts::default();
        s.h.outs.iter().filter_map(|o| parts.push(o)).count()
    };
    // 70 trades close 69 bars; the first vector comes with the 61st.
    assert_eq!(whole, 9);
    assert_eq!(s.h.core.advisor_stats().features, 9);

    let mut plain = config(InstanceConfig::new(
        StrategyKind::MeanReversion,
        &[Regime::Range],
    ));
    plain.models.clear();
    let mut s = Scene::with(&plain);
    for i in 0..70 {
        quiet(&mut s, i);
    }
    assert!(
        !s.h.outs
            .iter()
            .any(|o| matches!(o.body, OutputBody::Features { .. })),
        "no registry, no vectors"
    );
}

#[test]
fn gate_refuses_an_entry_the_model_leans_against_and_keeps_one_it_agrees_with() {
    let full = unadvised_size();

    let mut s = Scene::with(&advised(AdvisorMode::Gate, None));
    let outs = drop_after(&mut s, Some(0.2));
    let a = advice(&outs);
    assert_eq!(a.len(), 1, "{outs:#?}");
    assert_eq!(a[0].verdict, AdviceVerdict::Vetoed);
    assert_eq!(
        (a[0].score, a[0].stance, a[0].qty),
        (200_000, Stance::Long, full)
    );
    assert!(a[0].strategy_confidence > 0, "both inputs recorded");
    assert!(signals(&outs).is_empty() && common::new_orders(&outs).is_empty());
    assert_eq!(s.h.core.advisor_stats().vetoed, 1);

    let mut s = Scene::with(&advised(AdvisorMode::Gate, None));
    let outs = drop_after(&mut s, Some(0.7));
    let a = advice(&outs);
    assert_eq!(a[0].verdict, AdviceVerdict::Kept);
    assert_eq!(a[0].factor, PPM);
    assert_eq!(
        signals(&outs)[0].qty,
        full,
        "agreement never raises the size"
    );
}

#[test]
fn advise_cuts_the_size_by_the_factor_and_never_refuses() {
    let full = unadvised_size();
    let mut s = Scene::with(&advised(AdvisorMode::Advise, Some("1")));
    let outs = drop_after(&mut s, Some(0.3));
    let a = advice(&outs);
    // 1 + 1 × (2 × 0.3 − 1) = 0.6.
    assert_eq!((a[0].verdict, a[0].factor), (AdviceVerdict::Cut, 600_000));
    let got = signals(&outs)[0].qty;
    let step = Qty::parse("0.001").unwrap();
    let want = Qty::from_raw(full.raw() * 6 / 10)
        .round_to(step, autobot_engine::types::Rounding::TowardZero)
        .unwrap();
    assert_eq!(got, want);
    assert!(got < full);
    let order = common::new_orders(&outs)[0];
    assert!(order.qty <= got, "{order:?}");
}

#[test]
fn gate_without_fresh_advice_opens_nothing_and_alerts_once() {
    let mut s = Scene::with(&advised(AdvisorMode::Gate, None));
    let outs = drop_after(&mut s, None);
    let a = advice(&outs);
    assert_eq!(a[0].verdict, AdviceVerdict::NoAdviceVetoed);
    assert_eq!(a[0].age, u32::MAX);
    assert!(signals(&outs).is_empty());
    let alerts: Vec<_> = outs
        .iter()
        .filter(|o| matches!(o.body, OutputBody::Alert(a) if a.code == AlertCode::AdvisorSilent))
        .collect();
    assert_eq!(alerts.len(), 1);
    // The same proposal again without new advice: not judged again.
    let again = s.second(59_980.0);
    assert!(advice(&again).is_empty() || signals(&again).is_empty());

    // Under advise, no advice leaves the entry as it was.
    let full = unadvised_size();
    let mut s = Scene::with(&advised(AdvisorMode::Advise, None));
    let outs = drop_after(&mut s, None);
    assert_eq!(advice(&outs)[0].verdict, AdviceVerdict::NoAdvice);
    assert_eq!(signals(&outs)[0].qty, full);
}

#[test]
fn a_stale_prediction_counts_as_none() {
    let mut s = Scene::with(&advised(AdvisorMode::Gate, None));
    for i in 0..70 {
        quiet(&mut s, i);
    }
    predict(&mut s, 0.9);
    // Three quiet seconds: the prediction's bar is 1.5 bars old and more.
    for _ in 0..3 {
        s.second(60_000.0);
    }
    s.h.now += 2 * SEC;
    let mut outs = s.second(59_990.0);
    outs.extend(s.second(59_990.0));
    assert_eq!(advice(&outs)[0].verdict, AdviceVerdict::NoAdviceVetoed);
}

#[test]
fn predictions_about_nothing_handed_out_are_refused_and_alerted() {
    let mut s = Scene::with(&advised(AdvisorMode::Gate, None));
    for i in 0..70 {
        quiet(&mut s, i);
    }
    let about = last_features(&s.h.outs).unwrap();
    let bad = [
        Prediction::from_probability(3, 15, 0.5, about),
        Prediction::from_probability(0, 15, 0.5, Seq(about.0 + 1)),
        Prediction {
            score: PPM + 1,
            ..Prediction::from_probability(0, 15, 0.5, about)
        },
    ];
    for p in bad {
        let outs =
            s.h.feed(Source::Advisor, 0, s.h.now, InputBody::Prediction(p));
        assert!(
            matches!(outs[..], [OutputEvent { body: OutputBody::Alert(a), .. }] if a.code == AlertCode::BadPrediction),
            "{outs:#?}"
        );
    }
    assert_eq!(s.h.core.advisor_stats().refused, 3);
    assert_eq!(s.h.core.stats().invalid_inputs, 3);
    assert_eq!(s.h.core.advisor_stats().predictions, 0);
}
