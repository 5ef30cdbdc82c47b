//! WorkOS list pagination for the lists added with events and sessions: `limit` (1–100,
//! default 10), `order` (`asc`, `desc`, `normal`) and the cursors `after` and `before`
//! (object ids), answered as `{"object": "list", "data", "list_metadata": {"before",
//! "after"}}`.
//!
//! Items are positioned by a sequence number (the order they were recorded in), not by
//! timestamps: the emulator's clock can be moved back, and a list must still come out in
//! the order things happened. A cursor is resolved against every object of the list's
//! kind, not just those the filters keep, so a client can change filters between pages;
//! an id the emulator does not know is refused (422), where WorkOS would not silently
//! start over.
//!
//! The orders, as WorkOS documents them: `asc` oldest first and `desc` newest first, with
//! `after` the cursor for the next page in that order and `before` for the previous one;
//! `normal` is newest first with the cursors reversed, `before` fetching older objects and
//! `after` newer ones.

use axum::http::StatusCode;
use serde_json::json;

use super::urlencoded;
use super::wire::ApiError;

/// The order of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Order {
    /// Oldest first.
    Asc,
    /// Newest first.
    Desc,
    /// Newest first; `before` pages to older objects, `after` to newer ones.
    Normal,
}

/// `limit`, `order` and the cursors of a list request.
#[derive(Debug, Clone)]
pub(crate) struct ListParams {
    pub(crate) limit: usize,
    pub(crate) order: Order,
    pub(crate) after: Option<String>,
    pub(crate) before: Option<String>,
}

impl ListParams {
    /// Reads them from a query; `default_order` when `order` is absent.
    pub(crate) fn parse(
        pairs: &[(String, String)],
        default_order: Order,
    ) -> Result<Self, ApiError> {
        let one = |key: &str| -> Result<Option<String>, ApiError> {
            urlencoded::single(pairs, key)
                .map(|v| v.filter(|v| !v.is_empty()).map(str::to_owned))
                .map_err(|()| invalid(key, &format!("{key} may be given once.")))
        };
        let limit = match one("limit")?.map(|v| v.parse::<usize>()) {
            None => 10,
            Some(Ok(n)) if (1..=100).contains(&n) => n,
            Some(_) => return Err(invalid("limit", "limit must be a number from 1 to 100.")),
        };
        let order = match one("order")?.as_deref() {
            None => default_order,
            Some("asc") => Order::Asc,
            Some("desc") => Order::Desc,
            Some("normal") => Order::Normal,
            Some(_) => {
                return Err(invalid(
                    "order",
                    "order must be one of asc, desc or normal.",
                ))
            }
        };
        Ok(Self {
            limit,
            order,
            after: one("after")?,
            before: one("before")?,
        })
    }
}

/// One page of a list and its cursors, ready for `list_metadata`.
#[derive(Debug)]
pub(crate) struct Page<'a, T> {
    pub(crate) items: Vec<&'a T>,
    pub(crate) before: Option<String>,
    pub(crate) after: Option<String>,
}

/// A cursor (`after` or `before`, named here) that names no known object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cursor(pub(crate) &'static str);

/// Cuts one page out of `items` (already filtered, oldest first by `seq`). `resolve`
/// maps a cursor id to its sequence number, or `None` when it names nothing.
pub(crate) fn paginate<'a, T>(
    items: &[&'a T],
    seq: impl Fn(&T) -> u64,
    id: impl Fn(&T) -> &str,
    resolve: impl Fn(&str) -> Option<u64>,
    params: &ListParams,
) -> Result<Page<'a, T>, Cursor> {
    let cursor = |name: &'static str, value: &Option<String>| match value {
        None => Ok(None),
        Some(v) => resolve(v).map(Some).ok_or(Cursor(name)),
    };
    let after = cursor("after", &params.after)?;
    let before = cursor("before", &params.before)?;
    // `forward` pages on in list order, `backward` back; `normal` swaps the two cursors.
    let (forward, backward) = match params.order {
        Order::Asc | Order::Desc => (after, before),
        Order::Normal => (before, after),
    };
    let mut list: Vec<&'a T> = items.to_vec();
    list.sort_by_key(|item| seq(item));
    if params.order != Order::Asc {
        list.reverse();
    }
    // Whether `s` comes before the cursor `c` in list order.
    let precedes = |s: u64, c: u64| match params.order {
        Order::Asc => s < c,
        Order::Desc | Order::Normal => s > c,
    };
    let len = list.len();
    // Items up to and including a forward cursor are behind us; items from a backward
    // cursor on are ahead of the page.
    let start = forward.map_or(0, |c| {
        list.partition_point(|item| precedes(seq(item), c) || seq(item) == c)
    });
    let bound = backward.map_or(len, |c| list.partition_point(|item| precedes(seq(item), c)));
    let (start, end) = if forward.is_none() && backward.is_some() {
        (bound.saturating_sub(params.limit), bound)
    } else {
        (
            start,
            start.saturating_add(params.limit).min(bound).max(start),
        )
    };
    let page: Vec<&'a T> = list.get(start..end).unwrap_or_default().to_vec();
    let first = page.first().map(|item| id(item).to_owned());
    let last = page.last().map(|item| id(item).to_owned());
    let previous = if start > 0 { first } else { None };
    let next = if end < len { last } else { None };
    let (before, after) = match params.order {
        Order::Asc | Order::Desc => (previous, next),
        Order::Normal => (next, previous),
    };
    Ok(Page {
        items: page,
        before,
        after,
    })
}

/// `422` with WorkOS's validation shape, naming the offending parameter.
pub(crate) fn invalid(field: &str, message: &str) -> ApiError {
    ApiError::with_body(
        StatusCode::UNPROCESSABLE_ENTITY,
        json!({
            "code": "invalid_request_parameters",
            "message": message,
            "errors": [{ "field": field, "code": "invalid" }],
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::response::IntoResponse;

    struct Item {
        seq: u64,
        id: String,
    }

    fn items(n: u64) -> Vec<Item> {
        (1..=n)
            .map(|seq| Item {
                seq,
                id: format!("i{seq}"),
            })
            .collect()
    }

    /// The page's item numbers, `before` and `after`.
    type Listed = (Vec<u64>, Option<String>, Option<String>);

    fn page(
        all: &[Item],
        keep: impl Fn(&Item) -> bool,
        order: Order,
        limit: usize,
        after: Option<&str>,
        before: Option<&str>,
    ) -> Result<Listed, Cursor> {
        let kept: Vec<&Item> = all.iter().filter(|i| keep(i)).collect();
        let params = ListParams {
            limit,
            order,
            after: after.map(str::to_owned),
            before: before.map(str::to_owned),
        };
        let resolve = |id: &str| all.iter().find(|i| i.id == id).map(|i| i.seq);
        let p = paginate(&kept, |i| i.seq, |i| &i.id, resolve, &params)?;
        Ok((p.items.iter().map(|i| i.seq).collect(), p.before, p.after))
    }

    fn s(v: &str) -> Option<String> {
        Some(v.to_owned())
    }

    #[test]
    fn asc_and_desc_page_both_ways() {
        let all = items(5);
        let any = |_: &Item| true;
        assert_eq!(
            page(&all, any, Order::Asc, 2, None, None),
            Ok((vec![1, 2], None, s("i2")))
        );
        assert_eq!(
            page(&all, any, Order::Asc, 2, Some("i2"), None),
            Ok((vec![3, 4], s("i3"), s("i4")))
        );
        assert_eq!(
            page(&all, any, Order::Asc, 2, Some("i4"), None),
            Ok((vec![5], s("i5"), None))
        );
        assert_eq!(
            page(&all, any, Order::Asc, 2, Some("i5"), None),
            Ok((vec![], None, None))
        );
        assert_eq!(
            page(&all, any, Order::Asc, 2, None, Some("i3")),
            Ok((vec![1, 2], None, s("i2")))
        );
        assert_eq!(
            page(&all, any, Order::Asc, 2, None, Some("i5")),
            Ok((vec![3, 4], s("i3"), s("i4")))
        );
        assert_eq!(
            page(&all, any, Order::Desc, 2, None, None),
            Ok((vec![5, 4], None, s("i4")))
        );
        assert_eq!(
            page(&all, any, Order::Desc, 2, Some("i4"), None),
            Ok((vec![3, 2], s("i3"), s("i2")))
        );
        assert_eq!(
            page(&all, any, Order::Desc, 2, None, Some("i3")),
            Ok((vec![5, 4], None, s("i4")))
        );
        assert_eq!(
            page(&all, any, Order::Asc, 10, Some("i1"), Some("i4")),
            Ok((vec![2, 3], s("i2"), s("i3")))
        );
    }

    #[test]
    fn normal_is_newest_first_with_reversed_cursors() {
        let all = items(5);
        let any = |_: &Item| true;
        // First page: the newest; `before` fetches older ones.
        assert_eq!(
            page(&all, any, Order::Normal, 2, None, None),
            Ok((vec![5, 4], s("i4"), None))
        );
        assert_eq!(
            page(&all, any, Order::Normal, 2, None, Some("i4")),
            Ok((vec![3, 2], s("i2"), s("i3")))
        );
        // `after` fetches newer ones.
        assert_eq!(
            page(&all, any, Order::Normal, 2, Some("i2"), None),
            Ok((vec![4, 3], s("i3"), s("i4")))
        );
    }

    #[test]
    fn cursors_resolve_outside_the_filter_and_unknown_ones_are_refused() {
        let all = items(6);
        let even = |i: &Item| i.seq.is_multiple_of(2);
        assert_eq!(
            page(&all, even, Order::Asc, 10, Some("i3"), None),
            Ok((vec![4, 6], s("i4"), None))
        );
        assert_eq!(
            page(&all, even, Order::Asc, 10, Some("nope"), None),
            Err(Cursor("after"))
        );
        assert_eq!(
            page(&all, even, Order::Asc, 10, None, Some("nope")),
            Err(Cursor("before"))
        );
    }

    #[test]
    fn params_are_validated() {
        let q = |s: &str| urlencoded::parse(s).unwrap();
        let p = ListParams::parse(&q(""), Order::Desc).unwrap();
        assert_eq!((p.limit, p.order), (10, Order::Desc));
        let p = ListParams::parse(&q("limit=100&order=normal&after=x"), Order::Asc).unwrap();
        assert_eq!(
            (p.limit, p.order, p.after.as_deref()),
            (100, Order::Normal, Some("x"))
        );
        for bad in [
            "limit=0",
            "limit=101",
            "limit=x",
            "order=up",
            "after=a&after=b",
        ] {
            let response = ListParams::parse(&q(bad), Order::Asc)
                .unwrap_err()
                .into_response();
            assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        }
    }
}
