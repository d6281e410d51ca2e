//! What the command line shows: amounts with the token's symbol and decimals, times in human
//! form, and plain-text tables.

use sutantra_runtime::{
	Balance, BlockNumber, MILLI_SECS_PER_BLOCK, TOKEN_DECIMALS, TOKEN_SYMBOL, UNIT,
};

/// `1500000000000` → `1.5 SUT`.
pub fn format_amount(plancks: Balance) -> String {
	let whole = plancks / UNIT;
	let fraction = plancks % UNIT;
	if fraction == 0 {
		return format!("{whole} {TOKEN_SYMBOL}");
	}
	let digits = format!("{fraction:0width$}", width = TOKEN_DECIMALS as usize);
	format!("{whole}.{} {TOKEN_SYMBOL}", digits.trim_end_matches('0'))
}

/// `1.5`, `1.5 SUT` or `0.000001SUT` → plancks. At most 12 decimals; no negatives.
pub fn parse_amount(text: &str) -> Result<Balance, String> {
	let number = text.trim();
	let number = number.strip_suffix(TOKEN_SYMBOL).unwrap_or(number).trim();
	let help = || {
		format!("`{text}` is not an amount of {TOKEN_SYMBOL}: write it like 1, 0.25 or 0.000001 {TOKEN_SYMBOL}")
	};
	if number.is_empty() || !number.chars().all(|c| c.is_ascii_digit() || c == '.') {
		return Err(help());
	}
	let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
	if whole.is_empty() && fraction.is_empty() || fraction.contains('.') {
		return Err(help());
	}
	if fraction.len() > TOKEN_DECIMALS as usize {
		return Err(format!(
			"`{text}` has more than {TOKEN_DECIMALS} decimals, the smallest unit of {TOKEN_SYMBOL}"
		));
	}
	let whole: Balance = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| help())? };
	let fraction: Balance = if fraction.is_empty() {
		0
	} else {
		let scale = 10u128.pow(TOKEN_DECIMALS as u32 - fraction.len() as u32);
		fraction.parse::<Balance>().map_err(|_| help())? * scale
	};
	whole
		.checked_mul(UNIT)
		.and_then(|plancks| plancks.checked_add(fraction))
		.ok_or_else(|| format!("`{text}` is more {TOKEN_SYMBOL} than exist"))
}

/// `95` → `1 min 35 s`; `7300` → `2 h 1 min`.
pub fn format_duration(seconds: u64) -> String {
	let (days, hours, minutes, secs) =
		(seconds / 86_400, seconds / 3600 % 24, seconds / 60 % 60, seconds % 60);
	match (days, hours, minutes) {
		(0, 0, 0) => format!("{secs} s"),
		(0, 0, _) if secs == 0 => format!("{minutes} min"),
		(0, 0, _) => format!("{minutes} min {secs} s"),
		(0, _, 0) => format!("{hours} h"),
		(0, _, _) => format!("{hours} h {minutes} min"),
		(_, 0, _) => format!("{days} d"),
		_ => format!("{days} d {hours} h"),
	}
}

/// A block relative to the best one, in words: `block #120 (in ~3 min)` or `block #80 (~4 min ago)`.
pub fn format_block(block: BlockNumber, best: BlockNumber) -> String {
	let seconds = |blocks: BlockNumber| u64::from(blocks) * MILLI_SECS_PER_BLOCK / 1000;
	if block > best {
		format!("block #{block} (in ~{})", format_duration(seconds(block - best)))
	} else if block == best {
		format!("block #{block} (now)")
	} else {
		format!("block #{block} (~{} ago)", format_duration(seconds(best - block)))
	}
}

/// `2h`, `30m`, `45s`, `1d` → seconds.
pub fn parse_duration(text: &str) -> Result<u64, String> {
	let text = text.trim();
	let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
	let (number, unit) = text.split_at(split);
	let help = || format!("`{text}` is not a duration: write it like 45s, 30m, 2h or 1d");
	let number: u64 = number.parse().map_err(|_| help())?;
	let unit = match unit.trim() {
		"s" | "sec" | "" => 1,
		"m" | "min" => 60,
		"h" => 3600,
		"d" => 86_400,
		_ => return Err(help()),
	};
	number.checked_mul(unit).ok_or_else(help)
}

/// Seconds as the number of blocks that covers them (rounded up).
pub fn blocks_for(seconds: u64) -> BlockNumber {
	let blocks = (seconds * 1000).div_ceil(MILLI_SECS_PER_BLOCK);
	BlockNumber::try_from(blocks).unwrap_or(BlockNumber::MAX)
}

/// Text from the chain or a node (titles, descriptions, origins, a server's reasons) as it may be
/// shown on a terminal: control characters (escape sequences that would recolour, move the
/// cursor, retitle the window or ring the bell), and the invisible characters that reorder text,
/// are shown escaped (`\u{1b}`). Line breaks are kept only if `lines` is set.
pub fn printable(text: &str, lines: bool) -> String {
	let mut out = String::with_capacity(text.len());
	for c in text.chars() {
		let hidden = c.is_control()
			|| matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
		if hidden && !(lines && c == '\n') {
			out.extend(c.escape_unicode());
		} else {
			out.push(c);
		}
	}
	out
}

/// Bytes from the chain (a title, a description) as one printable line.
pub fn printable_bytes(bytes: &[u8]) -> String {
	printable(&String::from_utf8_lossy(bytes), false)
}

/// A plain-text table: a header row, then the rows, columns padded to their widest cell.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
	let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
	for row in rows {
		for (width, cell) in widths.iter_mut().zip(row) {
			*width = (*width).max(cell.chars().count());
		}
	}
	let line = |cells: Vec<&str>| {
		let padded: Vec<String> =
			cells.iter().zip(&widths).map(|(cell, width)| format!("{cell:<width$}")).collect();
		padded.join("  ").trim_end().to_owned()
	};
	let mut out = vec![line(headers.to_vec())];
	out.extend(rows.iter().map(|row| line(row.iter().map(String::as_str).collect())));
	out.join("\n")
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn terminal_escapes_from_the_chain_are_shown_escaped() {
		let title = "\u{1b}]0;owned\u{7}\u{1b}[2J\u{1b}[31mred\u{9b}31m\u{202e}txt.exe";
		let shown = printable(title, false);
		assert!(!shown.chars().any(|c| c.is_control() || c == '\u{202e}'), "{shown:?}");
		assert_eq!(
			shown,
			"\\u{1b}]0;owned\\u{7}\\u{1b}[2J\\u{1b}[31mred\\u{9b}31m\\u{202e}txt.exe"
		);
		assert_eq!(printable("two\nlines", true), "two\nlines");
		assert_eq!(printable("two\nlines", false), "two\\u{a}lines");
		assert_eq!(printable_bytes(b"caf\xc3\xa9 \xff"), "café \u{fffd}");
	}

	proptest::proptest! {
		#[test]
		fn nothing_from_the_chain_reaches_the_terminal_as_a_control_character(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
			let shown = printable_bytes(&bytes);
			proptest::prop_assert!(!shown.chars().any(|c| c.is_control()));
		}
	}

	#[test]
	fn amounts_round_trip() {
		assert_eq!(format_amount(UNIT), "1 SUT");
		assert_eq!(format_amount(UNIT * 3 / 2), "1.5 SUT");
		assert_eq!(format_amount(1), "0.000000000001 SUT");
		assert_eq!(format_amount(0), "0 SUT");
		for (text, plancks) in [
			("1", UNIT),
			("1.5", UNIT * 3 / 2),
			("0.01 SUT", UNIT / 100),
			(".5", UNIT / 2),
			("2SUT", 2 * UNIT),
			("0.000000000001", 1),
		] {
			assert_eq!(parse_amount(text), Ok(plancks), "{text}");
		}
		for bad in ["", "-1", "1.2.3", "abc", "1e3", "0.0000000000001", "."] {
			assert!(parse_amount(bad).is_err(), "{bad}");
		}
		assert!(parse_amount("0.0000000000001").unwrap_err().contains("decimals"));
		assert!(parse_amount("999999999999999999999999999999999").is_err());
	}

	#[test]
	fn durations_and_blocks_read_naturally() {
		assert_eq!(format_duration(45), "45 s");
		assert_eq!(format_duration(95), "1 min 35 s");
		assert_eq!(format_duration(7300), "2 h 1 min");
		assert_eq!(format_duration(86_400 * 2 + 3600), "2 d 1 h");
		assert_eq!(format_block(110, 100), "block #110 (in ~1 min)");
		assert_eq!(format_block(90, 100), "block #90 (~1 min ago)");
		assert_eq!(parse_duration("2h"), Ok(7200));
		assert_eq!(parse_duration("30m"), Ok(1800));
		assert_eq!(parse_duration("45"), Ok(45));
		assert!(parse_duration("soon").is_err());
		assert_eq!(blocks_for(7), 2);
		assert_eq!(blocks_for(6), 1);
	}

	#[test]
	fn tables_line_up() {
		let text = table(&["ID", "TITLE"], &[vec!["1".into(), "a long title".into()]]);
		assert_eq!(text, "ID  TITLE\n1   a long title");
	}
}
