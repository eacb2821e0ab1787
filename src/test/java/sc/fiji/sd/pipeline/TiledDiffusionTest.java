package sc.fiji.sd.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import net.imglib2.Cursor;
import net.imglib2.img.Img;
import net.imglib2.type.numeric.real.FloatType;
import net.imglib2.view.Views;
import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.pipeline.GenerationRequest.Mode;

/**
 * Tiled diffusion (MultiDiffusion) on the embedded model (native 64×64 pixels = 8×8 latents): the tile layout, seams
 * on a 192×128 image to image, a single tile equal to the untiled run, replay, progress per tile and cancellation.
 */
class TiledDiffusionTest {

	static final int W = 192, H = 128, TILE = 64, OVERLAP = 16;

	static GenerationRequest.Builder request(int width, int height, int tile, int overlap) {
		return GenerationRequest.builder().mode(Mode.IMAGE_TO_IMAGE).prompt("a red circle").negativePrompt("noise")
			.steps(12).guidance(6).seed(5).strength(0.5).scheduler("DPM++ 2M")
			.initImage(TiledVaeTest.picture(width, height)).tileSize(tile).tileOverlap(overlap);
	}

	private static GenerationResult run(GenerationRequest r, ProgressListener listener) {
		return TestModels.pipeline("embedded").generate(r, listener);
	}

	private static Img<FloatType> pixels(GenerationRequest r) {
		return run(r, null).images().get(0).pixels();
	}

	@Test
	void tilesCoverTheLatentAndTheLastEndsAtTheEdge() {
		assertEquals(List.of(0, 6, 12, 16), TiledUnet.starts(24, 8, 2));
		assertEquals(List.of(0, 8, 16), TiledUnet.starts(24, 8, 0));
		assertEquals(List.of(0), TiledUnet.starts(8, 8, 2), "a side of one tile is one tile");
	}

	/** Tile borders in pixels along a side of {@code latents}: where a tile starts or ends inside the image. */
	static TreeSet<Integer> borders(int latents, int tile, int overlap) {
		TreeSet<Integer> at = new TreeSet<>();
		for (int s : TiledUnet.starts(latents, tile, overlap)) {
			at.add(s * 8);
			at.add((s + tile) * 8);
		}
		at.remove(0);
		at.remove(latents * 8);
		return at;
	}

	/**
	 * The seams: mean absolute step between adjacent columns (rows) at the tile borders over the mean step elsewhere.
	 * Overlapping tiles averaged each step stay close to the untiled run's ratio on the same columns; tiles side by side
	 * without overlap, each denoised on its own, show their edges. The embedded shapes model repaints this input (colour
	 * waves, out of its data set) as shapes on a flat background, so the ratio depends on where the shapes' edges fall:
	 * the untiled run on the same columns is the reference. (With Euler it paints a flat background at every tile's
	 * edge, so a naive border is a blue band, a seam the eye sees, rather than a step.)
	 */
	@Test
	void overlappingTilesLeaveNoSeam() {
		int t = TILE / 8;
		TreeSet<Integer> columns = borders(W / 8, t, OVERLAP / 8), rows = borders(H / 8, t, OVERLAP / 8);
		TreeSet<Integer> naiveColumns = borders(W / 8, t, 0), naiveRows = borders(H / 8, t, 0);
		Img<FloatType> whole = pixels(request(W, H, 0, 0).build());
		Img<FloatType> tiled = pixels(request(W, H, TILE, OVERLAP).build());
		Img<FloatType> naive = pixels(request(W, H, TILE, 0).build());
		double wholeRatio = TiledVaeTest.seamRatio(whole, columns, rows);
		double tiledRatio = TiledVaeTest.seamRatio(tiled, columns, rows);
		double naiveRatio = TiledVaeTest.seamRatio(naive, naiveColumns, naiveRows);
		double wholeOnNaive = TiledVaeTest.seamRatio(whole, naiveColumns, naiveRows);
		System.out.printf(Locale.ROOT, "Tiled diffusion %dx%d, %d-pixel tiles: border/interior step ratio: untiled %.3f, "
			+ "overlap %d %.3f; side by side %.3f (untiled on those borders %.3f)%n", W, H, TILE, wholeRatio, OVERLAP,
			tiledRatio, naiveRatio, wholeOnNaive);
		// measured on the fourth base: untiled 0.73 on the tiled borders (the VAE's 8-pixel grid makes steps at
		// multiples of 8 smaller than elsewhere), overlap 16 0.87, side by side 3.35 (untiled on those borders 0.55); on
		// the fifth: untiled 1.67 (its picture has edges on those columns), overlap 16 1.71, side by side 11.3 (untiled
		// 2.85). So the bound is the untiled picture's own ratio on the same columns: the tiled borders may be only a
		// little steeper than the untiled picture is there; side by side must stay clearly worse. Known defect: the bound
		// holds for this seed only; with seeds 6 and 7 the fifth base's tiles measure 1.91 / 1.37 against untiled 0.47 /
		// 0.70 (TiledDiffusionSeeds), its tiles each painting a whole picture. A measure that does not compare two
		// different pictures is still to be found (the base model card, "A sixth base").
		assertTrue(tiledRatio <= wholeRatio + 0.25,
			"seams visible: border/interior step ratio " + tiledRatio + ", untiled on the same borders " + wholeRatio);
		assertTrue(naiveRatio > 2.5 * tiledRatio, "tiles side by side must show a seam: " + naiveRatio);
	}

	@Test
	void anImageOfOneTileEqualsTheUntiledRun() {
		Img<FloatType> untiled = pixels(request(TILE, TILE, 0, 0).build());
		assertSamePixels(untiled, pixels(request(TILE, TILE, TILE, OVERLAP).build()));
		assertSamePixels(untiled, pixels(request(TILE, TILE, 2 * TILE, OVERLAP).build()), "a tile larger than the image");
	}

	/** The 9-channel inpainting UNet takes the mask and masked-image latents of each tile too. */
	@Test
	void inpaintingWithTheNineChannelUnetRunsInTiles() {
		int n = TestModels.model("inpaint9").info().nativeSize();
		var b = request(2 * n, n, 0, 0).mode(Mode.INPAINT).maskFeather(0)
			.mask(net.imglib2.img.array.ArrayImgs.floats(2 * n, n));
		Views.interval((Img<FloatType>) b.build().mask(), new long[] { n / 2, 0 }, new long[] { 3 * n / 2 - 1, n - 1 })
			.forEach(t -> t.set(1f));
		var pipeline = TestModels.pipeline("inpaint9");
		Img<FloatType> input = (Img<FloatType>) b.build().initImage();
		Img<FloatType> tiled = pipeline.generate(b.tileSize(n).tileOverlap(16).build(), null).images().get(0).pixels();
		var in = input.randomAccess();
		var out = tiled.randomAccess();
		for (int y = 0; y < n; y++) {
			for (int x : new int[] { 0, n / 2 - 1, 3 * n / 2, 2 * n - 1 }) {
				for (int c = 0; c < 3; c++) {
					assertEquals(in.setPositionAndGet(x, y, c).get(), out.setPositionAndGet(x, y, c).get(), 0f,
						"outside the mask the input stays at " + x + "," + y);
				}
			}
		}
		// one tile: the tile's extra channels are the whole latent's, and the result the untiled run's
		var one = request(n, n, 0, 0).mode(Mode.INPAINT).mask(net.imglib2.img.array.ArrayImgs.floats(n, n));
		((Img<FloatType>) one.build().mask()).forEach(t -> t.set(1f));
		assertSamePixels(pipeline.generate(one.build(), null).images().get(0).pixels(),
			pipeline.generate(one.tileSize(n).build(), null).images().get(0).pixels());
	}

	@Test
	void theSameRequestReplaysToTheSamePixels() {
		GenerationRequest r = request(W, H, TILE, OVERLAP).build();
		GeneratedImage first = run(r, null).images().get(0);
		assertSamePixels(first.pixels(), pixels(r));
		assertTrue(first.parameters().endsWith(", Tiled diffusion: 64, Tile overlap: 16"), first.parameters());
		assertFalse(run(request(TILE, TILE, 0, 0).build(), null).images().get(0).parameters().contains("Tiled"));
	}

	@Test
	void progressNamesStepAndTileAndCancellingStopsBetweenTiles() {
		List<String> status = new ArrayList<>();
		AtomicInteger steps = new AtomicInteger();
		GenerationResult r = run(request(W, H, TILE, OVERLAP).build(), new ProgressListener() {
			@Override
			public void stepFinished(StepProgress p) { steps.incrementAndGet(); }

			@Override
			public void status(String message) { status.add(message); }
		});
		assertFalse(r.interrupted());
		// 4 × 3 tiles each step
		int tiles = TiledUnet.starts(W / 8, TILE / 8, OVERLAP / 8).size()
			* TiledUnet.starts(H / 8, TILE / 8, OVERLAP / 8).size();
		assertEquals(12, tiles);
		assertTrue(status.contains("step 1/" + steps.get() + ", tile 1/12"), status.toString());
		assertTrue(status.contains("step " + steps.get() + "/" + steps.get() + ", tile 12/12"), status.toString());
		assertEquals(steps.get() * tiles, status.stream().filter(s -> s.startsWith("step ")).count());

		long before = TestModels.pipeline("embedded").unetCalls();
		AtomicInteger seen = new AtomicInteger();
		GenerationResult cancelled = run(request(W, H, TILE, OVERLAP).build(), new ProgressListener() {
			@Override
			public void stepFinished(StepProgress p) {}

			@Override
			public void status(String message) { if (message.startsWith("step ")) seen.incrementAndGet(); }

			@Override
			public boolean isCanceled() { return seen.get() >= 16; } // during the second step, at its fourth tile
		});
		assertTrue(cancelled.interrupted());
		assertEquals(1, cancelled.images().size(), "the last finished step is the result");
		// cancelled once the 16th tile (the second step's fourth) started: the first step's 12 calls and the second's
		// up to that tile (one call per tile: CFG batched), the 16th possibly stopped in flight; none after
		long calls = TestModels.pipeline("embedded").unetCalls() - before;
		assertTrue(calls >= 15 && calls <= 16, "UNet calls after the cancel: " + calls);
	}

	@Test
	void badTilesAreRefusedWithWhatToDo() {
		var e = assertThrows(StableDiffusionException.class, () -> request(W, H, 60, 16).build().validate());
		assertTrue(e.getMessage().contains("multiple of 8"), e.getMessage());
		e = assertThrows(StableDiffusionException.class, () -> request(W, H, 64, 64).build().validate());
		assertTrue(e.getMessage().contains("from 0 to 56"), e.getMessage());
		// a multiple of 8 that the model's UNet cannot take (the embedded model's size step is 16)
		int step = TestModels.model("embedded").info().sizeStep();
		e = assertThrows(StableDiffusionException.class, () -> run(request(W, H, step + 8, 8).build(), null));
		assertTrue(e.getMessage().contains("multiple of " + step), e.getMessage());
	}

	static void assertSamePixels(Img<FloatType> a, Img<FloatType> b) {
		assertSamePixels(a, b, "");
	}

	static void assertSamePixels(Img<FloatType> a, Img<FloatType> b, String what) {
		assertEquals(a.dimension(0), b.dimension(0));
		assertEquals(a.dimension(1), b.dimension(1));
		Cursor<FloatType> ca = a.cursor(), cb = b.cursor();
		while (ca.hasNext()) assertEquals(ca.next().get(), cb.next().get(), 0f, what);
	}
}
