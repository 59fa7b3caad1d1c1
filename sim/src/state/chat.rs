//! The other messages in a partner's chat (`history.others_in_chat`): what
//! a real history holds besides our message, chosen to fool a matcher that
//! looks only at `fromMe`, only at the body, or takes "any template of ours":
//! an older template of ours for an order whose number contains this one's,
//! the partner asking about this very order, a button reply.

use super::message::{Message, OtherMessage, unix_seconds};
use crate::scenario::TemplateSpec;

/// `n` other messages for the chat of `first` (the first message to it):
/// those older than it, then those after it.
pub(super) fn others(
    first: &Message,
    template: &TemplateSpec,
    n: u32,
    mut next_id: impl FnMut() -> String,
) -> (Vec<OtherMessage>, Vec<OtherMessage>) {
    let now = unix_seconds(first.accepted_at);
    let order = first.params.get(1).cloned().unwrap_or_default();
    let name = first.params.first().cloned().unwrap_or_default();
    let inbound = |id: String, kind, body: String, time| OtherMessage {
        id,
        phone: first.phone.clone(),
        from_me: false,
        kind,
        body,
        template: None,
        time,
    };
    let (mut before, mut after) = (Vec::new(), Vec::new());
    for k in 0..n {
        match k {
            0 => {
                // Yesterday's message of ours, for order `<order>1`: a
                // substring match on the order number takes it for ours.
                let mut params = first.params.clone();
                if let Some(p) = params.get_mut(1) {
                    p.push('1');
                }
                before.push(OtherMessage {
                    id: next_id(),
                    phone: first.phone.clone(),
                    from_me: true,
                    kind: "template",
                    body: template.render(&params),
                    template: Some((
                        first.template.clone(),
                        first.language.clone(),
                        first.namespace.clone(),
                    )),
                    time: now.saturating_sub(86_400),
                });
            }
            1 => before.push(inbound(
                next_id(),
                "chat",
                format!("Hi, this is {name}. Is order #{order} on its way?"),
                now.saturating_sub(3_600),
            )),
            2 => after.push(inbound(
                next_id(),
                "button",
                if template.button.is_empty() {
                    "OK".to_string()
                } else {
                    template.button.clone()
                },
                now,
            )),
            _ => after.push(inbound(
                next_id(),
                "chat",
                format!("Thanks, got order #{order} ({k})"),
                now,
            )),
        }
    }
    (before, after)
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::*;
    use crate::scenario::Outcome;
    use crate::state::message::AnswerDelivery;

    #[test]
    fn the_others_fool_a_sloppy_matcher_and_are_ordered_around_ours() {
        let template = TemplateSpec::default();
        let params: Vec<String> = ["Ada", "10482", "Lamp", "Thanks"].map(String::from).into();
        let first = Message {
            number: 1,
            wamid: "wamid.x".into(),
            phone: "491511234567".into(),
            template: template.name.clone(),
            namespace: Some(template.namespace.clone()),
            language: template.language.clone(),
            body: template.render(&params),
            params,
            accepted_at: SystemTime::now(),
            accepted_instant: std::time::Instant::now(),
            plan: Vec::new(),
            job_id: None,
            answer: AnswerDelivery::Normal,
            outcome: Outcome::Read,
            category: "utility".into(),
        };
        let mut n = 0;
        let (before, after) = others(&first, &template, 4, || {
            n += 1;
            format!("other{n}")
        });
        assert_eq!(before.len(), 2);
        assert_eq!(after.len(), 2);
        let older = &before[0];
        assert!(older.from_me && older.kind == "template");
        assert!(older.body.contains("104821") && older.body.contains("10482"));
        assert!(older.time < unix_seconds(first.accepted_at));
        assert!(!before[1].from_me && before[1].body.contains("10482"));
        assert_eq!(after[0].kind, "button");
        assert!(after.iter().all(|o| !o.from_me));
    }
}
