package sc.fiji.sd.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The one seed drawer: A1111's range, and only −1 asks for a drawn seed. */
class SeedsTest {

	@Test
	void minusOneDrawsASeedInTheA1111RangeOtherSeedsAreKept() {
		for (int i = 0; i < 1000; i++) {
			long drawn = Seeds.resolve(GenerationRequest.RANDOM_SEED);
			assertTrue(drawn >= 0 && drawn < 1L << 32, "in 0 … 2³² − 1: " + drawn);
		}
		assertEquals(42, Seeds.resolve(42));
		assertEquals(-5, Seeds.resolve(-5), "left for the validator to refuse");
	}
}
