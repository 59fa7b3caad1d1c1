//! The schedule: per-recipient queues and pair deadlines, kept apart from
//! the dispatcher so the fairness and pruning rules can be read (and
//! tested) without the network around them.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};

use tokio::time::Instant;

use super::Job;

/// A recipient as the schedule knows it: the phone's digits as a number.
/// Every job in the feed window is keyed by its recipient in four places;
/// a number instead of a `String` copy in each saves an allocation apiece.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) struct Recipient(u64);

impl Recipient {
    /// Normalised phones are 8–15 digits without a leading zero, so the
    /// number is the phone. Anything else (never produced by validation)
    /// gets a hash with the top bit set, apart from every digit string.
    pub(super) fn of(phone: &str) -> Recipient {
        match phone.parse::<u64>() {
            Ok(n) if phone.len() <= 15 && !phone.starts_with(['0', '+']) => Recipient(n),
            _ => {
                use std::hash::{Hash, Hasher};
                let mut h = std::hash::DefaultHasher::new();
                phone.hash(&mut h);
                Recipient(h.finish() | 1 << 63)
            }
        }
    }
}

/// `Schedule::next_allowed` is first pruned at this size.
const MIN_PRUNE_AT: usize = 4096;

/// Per-recipient queues, and which recipients are due when.
///
/// The send stage may be fed a window at a time (a million-row night is
/// not held in memory), so a recipient can run out of queued deliveries and
/// get more later: `active` says whether it is already scheduled or in
/// flight, and `next_allowed` remembers when an idle recipient may be sent
/// to again.
#[derive(Default)]
pub(super) struct Schedule {
    queues: HashMap<Recipient, VecDeque<Job>>,
    /// Not due yet: (due, row of its next delivery, recipient).
    waiting: BinaryHeap<Reverse<(Instant, u64, Recipient)>>,
    /// Due: (deliveries left, earlier row first, due, recipient).
    ready: BinaryHeap<(usize, Reverse<u64>, Reverse<Instant>, Recipient)>,
    /// Recipients in `waiting`, in `ready` or in flight.
    active: std::collections::HashSet<Recipient>,
    /// Idle recipients' earliest next send (the pair interval), pruned once
    /// it has passed.
    next_allowed: HashMap<Recipient, Instant>,
    /// Prune `next_allowed` when it reaches this size. It doubles with what
    /// a prune leaves behind: at 1,000/s with a 6 s pair interval some
    /// 6,000 entries are legitimately in the future, and pruning at a fixed
    /// size then walked the whole map on every release (20 % of the CPU
    /// of a 100,000-row run).
    prune_at: usize,
    pub(super) pending: usize,
}

impl Schedule {
    pub(super) fn new(jobs: Vec<Job>, now: Instant) -> Schedule {
        let mut s = Schedule {
            prune_at: MIN_PRUNE_AT,
            ..Schedule::default()
        };
        for job in jobs {
            s.add(job, now);
        }
        s
    }

    /// Queues one more delivery behind its recipient's others.
    pub(super) fn add(&mut self, job: Job, now: Instant) {
        self.pending += 1;
        let phone = Recipient::of(&job.delivery.phone);
        let row = job.row;
        // Most recipients have one delivery queued: a queue of one, not the
        // four a first push would reserve (a job is ~190 bytes).
        self.queues
            .entry(phone)
            .or_insert_with(|| VecDeque::with_capacity(1))
            .push_back(job);
        if self.active.insert(phone) {
            let due = self.next_allowed.remove(&phone).map_or(now, |t| t.max(now));
            self.waiting.push(Reverse((due, row, phone)));
        }
    }

    pub(super) fn next_due(&self) -> Option<Instant> {
        let ready = self.ready.peek().map(|(_, _, Reverse(due), _)| *due);
        let waiting = self.waiting.peek().map(|Reverse((due, _, _))| *due);
        ready.into_iter().chain(waiting).min()
    }

    /// The next delivery of the due recipient with the most left.
    pub(super) fn pop(&mut self, now: Instant) -> Option<Job> {
        while let Some(Reverse((due, order, _))) = self.waiting.peek()
            && *due <= now
        {
            let (due, order) = (*due, *order);
            let Some(Reverse((_, _, phone))) = self.waiting.pop() else {
                break;
            };
            let left = self.queues.get(&phone).map_or(0, VecDeque::len);
            self.ready.push((left, Reverse(order), Reverse(due), phone));
        }
        let (_, _, _, phone) = self.ready.pop()?;
        let queue = self.queues.get_mut(&phone)?;
        let job = queue.pop_front()?;
        if queue.is_empty() {
            self.queues.remove(&phone);
        }
        self.pending -= 1;
        Some(job)
    }

    /// Puts a job back at the front of its recipient's queue (its
    /// recipient is in flight, so still active).
    pub(super) fn retry(&mut self, job: Job) {
        self.pending += 1;
        self.queues
            .entry(Recipient::of(&job.delivery.phone))
            .or_default()
            .push_front(job);
    }

    /// The recipient's request is over; it is due again at `due` if it has
    /// more to send, and otherwise remembers `due` for when it gets more.
    pub(super) fn release(&mut self, phone: Recipient, due: Instant) {
        match self.queues.get(&phone).and_then(VecDeque::front) {
            Some(next) => {
                let row = next.row;
                self.waiting.push(Reverse((due, row, phone)));
            }
            None => {
                self.active.remove(&phone);
                if self.next_allowed.len() >= self.prune_at {
                    let now = Instant::now();
                    self.next_allowed.retain(|_, t| *t > now);
                    self.prune_at = MIN_PRUNE_AT.max(2 * self.next_allowed.len());
                }
                self.next_allowed.insert(phone, due);
            }
        }
    }

    pub(super) fn drain(&mut self) -> Vec<Job> {
        self.waiting.clear();
        self.ready.clear();
        self.active.clear();
        self.pending = 0;
        self.queues.drain().flat_map(|(_, q)| q).collect()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::delivery::Delivery;

    fn job(row: u64, phone: &str) -> Job {
        let delivery = Delivery {
            order_key: format!("K{row}"),
            partner_name: "P".into(),
            phone: phone.to_string(),
            order_number: format!("K{row}"),
            product_name: "Lamp".into(),
            delivery_note: "Note".into(),
            notes: Vec::new(),
            warnings: Vec::new(),
            language: None,
        };
        Job {
            row,
            delivery,
            attempts: 0,
            before: 0,
            contact: None,
        }
    }

    #[test]
    fn the_recipient_with_most_left_goes_first_among_those_due() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        // Rows 1–3 to three one-order partners, rows 4–6 to one partner.
        let jobs = vec![
            job(1, "491511"),
            job(2, "491512"),
            job(3, "491513"),
            job(4, "4917"),
            job(5, "4917"),
            job(6, "4917"),
        ];
        let mut s = Schedule::new(jobs, t0);
        assert_eq!(s.pop(t0).map(|j| j.row), Some(4));
        s.release(Recipient::of("4917"), t0 + ms(500));
        assert_eq!(s.pop(t0).map(|j| j.row), Some(1));
        assert_eq!(s.next_due(), Some(t0));
        // Due again, the big partner goes before partner 3, due earlier.
        assert_eq!(s.pop(t0 + ms(500)).map(|j| j.row), Some(5));
        assert_eq!(s.pop(t0 + ms(500)).map(|j| j.row), Some(2));
        assert_eq!(s.pop(t0 + ms(500)).map(|j| j.row), Some(3));
        assert!(s.pop(t0 + ms(500)).is_none(), "row 6 waits for its release");
        s.release(Recipient::of("4917"), t0 + ms(1000));
        assert_eq!(s.next_due(), Some(t0 + ms(1000)));
        assert!(s.pop(t0 + ms(999)).is_none());
        assert_eq!(s.pop(t0 + ms(1000)).map(|j| j.row), Some(6));
        assert_eq!(s.pending, 0);
    }

    #[test]
    fn a_recipient_is_its_digits_and_anything_else_is_kept_apart() {
        assert_eq!(Recipient::of("4915112345678"), Recipient(4_915_112_345_678));
        for odd in [
            "+4915112345678",
            "04915112345678",
            "49 151",
            "1234567890123456",
        ] {
            let r = Recipient::of(odd);
            assert!(r.0 >= 1 << 63, "{odd}");
            assert_ne!(r, Recipient::of("4915112345678"));
        }
        assert_eq!(Recipient::of("49 151"), Recipient::of("49 151"));
    }

    #[test]
    fn idle_recipients_still_in_their_pair_interval_are_kept_and_pruning_stays_rare() {
        let now = Instant::now();
        let later = now + Duration::from_secs(60);
        let mut s = Schedule::new(Vec::new(), now);
        // Twice the first prune size of recipients, all still waiting out
        // their pair interval: none may be forgotten.
        let n = 2 * MIN_PRUNE_AT + 10;
        for i in 0..n {
            let phone = format!("49151{i:08}");
            s.add(job(i as u64, &phone), now);
            assert_eq!(s.pop(now).map(|j| j.row), Some(i as u64));
            s.release(Recipient::of(&phone), later);
        }
        assert_eq!(s.next_allowed.len(), n);
        // After a prune that kept everything the next one waits for twice
        // as many, so releases do not each walk the whole map.
        assert!(s.prune_at > n, "prune_at {} for {n} entries", s.prune_at);
        // One of them fed again is not due before its interval ends.
        s.add(job(n as u64, "4915100000007"), now);
        assert_eq!(s.next_due(), Some(later));
    }

    #[test]
    fn a_recipient_fed_again_later_keeps_its_pair_interval_and_one_request_at_a_time() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut s = Schedule::new(vec![job(1, "4917")], t0);
        assert_eq!(s.pop(t0).map(|j| j.row), Some(1));
        s.release(Recipient::of("4917"), t0 + ms(500));
        // Idle, then fed more from the ledger: it still waits its interval.
        s.add(job(2, "4917"), t0 + ms(100));
        assert!(s.pop(t0 + ms(499)).is_none());
        assert_eq!(s.pop(t0 + ms(500)).map(|j| j.row), Some(2));
        // Fed while its request is in flight: not scheduled a second time.
        s.add(job(3, "4917"), t0 + ms(600));
        assert!(s.pop(t0 + ms(10_000)).is_none(), "waits for its release");
        s.release(Recipient::of("4917"), t0 + ms(1000));
        assert_eq!(s.pop(t0 + ms(1000)).map(|j| j.row), Some(3));
        assert_eq!(s.pending, 0);
    }
}
