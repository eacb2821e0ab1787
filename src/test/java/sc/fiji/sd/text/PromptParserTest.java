package sc.fiji.sd.text;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * AUTOMATIC1111's emphasis syntax. Expected values are the examples in A1111's documentation of
 * {@code parse_prompt_attention} (including its exact floating-point weights) and the rules it states.
 */
class PromptParserTest {

	private static PromptFragment f(String text, double weight) {
		return PromptFragment.of(text, weight);
	}

	@Test
	void plainTextIsOneFragmentOfWeightOne() {
		assertEquals(List.of(f("normal text", 1.0)), PromptParser.parse("normal text"));
	}

	@Test
	void roundBracketsMultiplyByOnePointOne() {
		assertEquals(List.of(f("an ", 1.0), f("important", 1.1), f(" word", 1.0)),
			PromptParser.parse("an (important) word"));
	}

	@Test
	void explicitWeightAndSquareBrackets() {
		assertEquals(List.of(f("a ", 1.0), f("red", 1.5), f(" ", 1.0), f("circle", 1 / 1.1)),
			PromptParser.parse("a (red:1.5) [circle]"));
	}

	@Test
	void nestingMultiplies() {
		List<PromptFragment> parsed = PromptParser.parse("((extra detailed))");
		assertEquals(1, parsed.size());
		assertEquals("extra detailed", parsed.get(0).text());
		assertEquals(1.21, parsed.get(0).weight(), 1e-12);
		assertEquals(List.of(f("x", 1 / 1.1 / 1.1)), PromptParser.parse("[[x]]"));
	}

	@Test
	void spacesAroundExplicitWeightAreAllowed() {
		assertEquals(List.of(f("word", 1.3)), PromptParser.parse("(word: 1.3 )"));
		assertEquals(List.of(f("word", 0.5)), PromptParser.parse("(word:+.5)"));
	}

	@Test
	void onlyTheLastColonNumberBeforeTheBracketIsAWeight() {
		// ":1.5" is not followed by ")", so it stays text; ":2)" closes the bracket with weight 2.
		assertEquals(List.of(f("abc:1.5", 2.0)), PromptParser.parse("(abc:1.5:2)"));
		assertEquals(List.of(f("time 16:9 ratio", 1.0)), PromptParser.parse("time 16:9 ratio"));
	}

	@Test
	void a1111DocumentedExampleReproducesExactWeights() {
		assertEquals(List.of(
			f("a ", 1.0),
			f("house", 1.5730000000000004),
			f(" ", 1.1),
			f("on", 1.0),
			f(" a ", 1.1),
			f("hill", 0.55),
			f(", sun, ", 1.1),
			f("sky", 1.4641000000000006),
			f(".", 1.1)),
			PromptParser.parse("a (((house:1.3)) [on] a (hill:0.5), sun, (((sky)))."));
	}

	@Test
	void adjacentFragmentsWithTheSameWeightMerge() {
		assertEquals(List.of(f("unnecessaryparens", 1.1)), PromptParser.parse("(unnecessary)(parens)"));
	}

	@Test
	void escapedBracketsAreLiteral() {
		assertEquals(List.of(f("(literal]", 1.0)), PromptParser.parse("\\(literal\\]"));
		assertEquals(List.of(f("(literal)", 1.0)), PromptParser.parse("\\(literal\\)"));
		assertEquals(List.of(f("a\\b [c]", 1.0)), PromptParser.parse("a\\\\b \\[c\\]"));
	}

	@Test
	void aBackslashBeforeAnythingElseDisappears() {
		assertEquals(List.of(f("ab", 1.0)), PromptParser.parse("a\\b"));
	}

	@Test
	void unclosedBracketsWeightTheRestOfThePrompt() {
		assertEquals(List.of(f("unbalanced", 1.1)), PromptParser.parse("(unbalanced"));
		assertEquals(List.of(f("unbalanced", 1 / 1.1)), PromptParser.parse("[unbalanced"));
		assertEquals(List.of(f("a ", 1.0), f("b", 1.1)), PromptParser.parse("a (b"));
	}

	@Test
	void unopenedClosingBracketsStayText() {
		assertEquals(List.of(f("a) b] c", 1.0)), PromptParser.parse("a) b] c"));
		assertEquals(List.of(f("tail:2)", 1.0)), PromptParser.parse("tail:2)"));
	}

	@Test
	void malformedWeightStaysTextInsteadOfFailing() {
		assertEquals(List.of(f("a:1.2.3)", 1.1)), PromptParser.parse("(a:1.2.3)"));
	}

	@Test
	void breakStartsANewChunk() {
		assertEquals(List.of(f("a", 1.0), PromptFragment.BREAK, f("b", 1.0)), PromptParser.parse("a BREAK b"));
		assertEquals(List.of(f("a", 1.0), PromptFragment.BREAK, f("b", 1.0), PromptFragment.BREAK, f("", 1.0)),
			PromptParser.parse("a\nBREAK\tb BREAK"));
	}

	@Test
	void breakOnlyCountsUpperCaseAndAsAWordOfItsOwn() {
		assertEquals(List.of(f("a break b", 1.0)), PromptParser.parse("a break b"));
		assertEquals(List.of(f("BREAKING news, aBREAK", 1.0)), PromptParser.parse("BREAKING news, aBREAK"));
	}

	@Test
	void breakInsideBracketsStillBreaksAndKeepsTheWeights() {
		assertEquals(List.of(f("a", 1.5), PromptFragment.BREAK, f("b", 1.5)), PromptParser.parse("(a BREAK b:1.5)"));
	}

	@Test
	void emptyPromptIsOneEmptyFragment() {
		assertEquals(List.of(f("", 1.0)), PromptParser.parse(""));
		assertEquals(List.of(f("", 1.0)), PromptParser.parse("()"), "brackets around nothing weight nothing");
	}
}
