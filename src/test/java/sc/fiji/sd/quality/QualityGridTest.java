package sc.fiji.sd.quality;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;

import org.junit.jupiter.api.Test;

/** The grid's seeds: what makes its cells independent draws, and a second set of images comparable to the first. */
class QualityGridTest {

	@Test
	void noTwoImagesOfAGridShareASeed() {
		// the model card's grid: 15 held-out combinations, up to 500 images each, and a second set from 1500
		Set<Long> first = new HashSet<>(), second = new HashSet<>();
		for (int combination = 0; combination < 15; combination++) {
			for (int image = 0; image < 500; image++) {
				assertTrue(first.add(QualityGrid.seed(1000, combination, image)), combination + "/" + image);
				second.add(QualityGrid.seed(1500, combination, image));
			}
		}
		second.retainAll(first);
		assertTrue(second.isEmpty(), "--first-seed 1500 draws other images: shared " + second.size());
	}

	@Test
	void moreImagesKeepTheFirstOnes() {
		// one batch per combination with consecutive seeds (A1111's batch seeds): --seeds 6 contains --seeds 2
		assertEquals(QualityGrid.seed(1000, 3, 0) + 1, QualityGrid.seed(1000, 3, 1));
		assertEquals(1000 + 3 * 1000, QualityGrid.seed(1000, 3, 0));
	}
}
