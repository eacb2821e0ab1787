package sc.fiji.sd.quality;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;

import sc.fiji.sd.model.EmbeddedModel;

/**
 * The grid's seeds (what makes its cells independent draws, and a second set of images comparable to the first) and
 * its seed spread.
 */
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

	@Test
	void seedSpreadPoolsTheDeviationsWithinEachCombination() {
		// centre x, centre y, size of the objects of two combinations, and one of a third that shows a single object
		List<List<double[]>> groups = List.of(
			List.of(new double[] { 0, 0, 10 }, new double[] { 2, 0, 14 }),
			List.of(new double[] { 5, 5, 20 }, new double[] { 5, 9, 20 }, new double[] { 5, 5, 20 }),
			List.<double[]>of(new double[] { 40, 40, 40 }));
		double[] spread = QualityGrid.pooledSpread(groups);
		// x: (1 + 1 + 0) / (1 + 2); y: (0 + 16/9 + 16/9 + 64/9) / 3; size: (4 + 4 + 0) / 3 (by hand)
		assertEquals(Math.sqrt(2.0 / 3), spread[0], 1e-12);
		assertEquals(Math.sqrt(32.0 / 9), spread[1], 1e-12);
		assertEquals(Math.sqrt(8.0 / 3), spread[2], 1e-12);
		// one image per combination has no spread to measure
		assertTrue(Double.isNaN(QualityGrid.pooledSpread(List.of(List.<double[]>of(new double[] { 1, 1, 1 })))[0]),
			"NaN, not 0");
	}

	@Test
	void drawnSpreadIsTheDataSetsLayout() throws Exception {
		// the training set draws sizes uniform in 24..44 px (std 20 / sqrt 12 = 5.77) and centres uniform over the
		// 56 - size px that a 4 px margin leaves (std sqrt(E[(56 - size)^2] / 12) = 6.57): what the check measures
		// on drawn images must be that, or the grid's spreads compare with nothing
		HeldoutSet set = HeldoutSet.read(EmbeddedModel.path());
		double[] spread = QualityGrid.drawnSpread(set, new ShapeCheck(set.colors()), 40, 7);
		double centre = Math.sqrt((Math.pow(32, 3) - Math.pow(12, 3)) / (3 * 20.0) / 12), size = 20 / Math.sqrt(12);
		assertEquals(centre, spread[0], 0.4, "centre x");
		assertEquals(centre, spread[1], 0.4, "centre y");
		assertEquals(size, spread[2], 0.4, "size");
	}
}
