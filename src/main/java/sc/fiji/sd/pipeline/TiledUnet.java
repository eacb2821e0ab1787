package sc.fiji.sd.pipeline;

import java.util.ArrayList;
import java.util.List;
import java.util.function.LongConsumer;

import ai.onnxruntime.OrtException;
import sc.fiji.sd.model.StableDiffusionModel;
import sc.fiji.sd.onnx.Cancellation;

/**
 * Tiled diffusion (MultiDiffusion, Bar-Tal et al. 2023): each step the UNet denoises overlapping tiles of the latent,
 * each of a size the model was trained on, and the prediction of a latent pixel is the weighted mean of the tiles'
 * predictions there. Memory then grows with the tile, not the image, and the averaging each step ties neighbouring
 * tiles together. Two choices keep the tile borders from showing where neighbouring tiles disagree (each tile of a
 * model trained on whole pictures tends to paint a whole picture):
 * <ul>
 * <li>a tile's weight ramps down across the part it shares with a neighbour, to near 0 at its edge (as the tiled VAE's,
 * {@link TiledVae#ramp}; Mixture of Diffusers, Jiménez 2023, uses Gaussian weights for the same reason): where the UNet
 * saw the tile's edge instead of the neighbourhood it hardly counts, and one tile fades into the next. With uniform
 * weights (the paper's) a latent pixel's mean jumps where a tile ends;</li>
 * <li>the tiles after the first row and column shift every step by an offset below the stride (across: the step
 * times the golden ratio, down: times √2, modulo 1, so a few successive steps use offsets far apart), and the borders
 * of one step lie inside the tiles of the next (as SpotDiffusion, Frolov et al. 2024, shifts its windows): no border
 * stays in place for the whole run.</li>
 * </ul>
 * <p>
 * This averages the noise predictions and runs one scheduler step on the whole latent. For samplers whose step is
 * affine in the prediction with coefficients shared by all pixels (DDIM, Euler, Euler a and DDPM, whose step noise is
 * drawn once per pixel, LCM) that equals the paper's weighted average of each tile's {@code x_{t−1}}. Multistep samplers
 * (DPM++ 2M, PLMS, UniPC) keep the averaged predictions of earlier steps, the natural history of one sampler on the
 * whole latent (per-tile samplers would not exist when tiles move). Samplers that evaluate the UNet at an intermediate
 * point (Heun, DPM2) average that point too.
 * <p>
 * Along each side tiles start at 0, then every {@code tile − overlap} latents from the step's offset; the last is moved
 * back to end at the latent's edge, so every pixel is covered and all tiles have the same size. The layout depends only
 * on the step, so a request replays to the same pixels. A latent no larger than one tile is one tile, whose prediction
 * is the whole-latent UNet's exactly.
 */
final class TiledUnet implements NoisePredictor {

	/** A tile: its top left corner in latents, and its weight per latent pixel of the tile. */
	private record Tile(int x, int y, float[] weights) {}

	/** One runner for all tiles (a 9-channel UNet's extra channels are refilled per tile). */
	private final UnetRunner runner;
	private final float[] extraChannels;
	private final ProgressListener progress;
	private final int images, latentW, latentH, tileW, tileH, overlap;
	private int firstStep, totalSteps;

	/**
	 * @param batch the whole latent's UNet calls (its size is the plan's); the tiles' are the same at the tile size
	 * @param extraChannels a 9-channel UNet's channels after the latents for the whole latent, or null
	 */
	TiledUnet(StableDiffusionModel model, UnetBatch batch, Plan plan, TextInputs text, float[] extraChannels,
		List<UnetInput.Factory> inputs, LongConsumer onCall, ProgressListener progress) throws OrtException
	{
		this.progress = progress;
		this.images = batch.images();
		this.latentW = plan.latentW;
		this.latentH = plan.latentH;
		this.tileW = plan.tileW;
		this.tileH = plan.tileH;
		this.overlap = plan.tileOverlap;
		this.extraChannels = extraChannels;
		UnetBatch tileBatch = new UnetBatch(batch.model(), batch.request(), tileW * 8, tileH * 8, batch.images(),
			batch.guidance(), batch.calls());
		runner = new UnetRunner(model, tileBatch, text, null, inputs, onCall);
	}

	/**
	 * Where tiles of {@code tile} latents start across a width of {@code size} at step {@code step}: at 0, then every
	 * {@code tile − overlap} from the step's offset, the last ending at the edge.
	 */
	static List<Integer> startsAcross(int size, int tile, int overlap, int step) {
		return spans(size, tile, overlap, step, X).stream().map(s -> s[0]).toList();
	}

	/** As {@link #startsAcross} down a height (with the other axis' offsets). */
	static List<Integer> startsDown(int size, int tile, int overlap, int step) {
		return spans(size, tile, overlap, step, Y).stream().map(s -> s[0]).toList();
	}

	/** {@link TiledVae#spans} along an axis at {@code step}, shifted by that axis' offset ({@code alpha}: X or Y). */
	private static List<int[]> spans(int size, int tile, int overlap, int step, double alpha) {
		return TiledVae.spans(size, tile, overlap, offset(step, tile - overlap, alpha));
	}

	/** The offsets' irrationals across and down: the golden ratio's and √2's fractional parts. */
	private static final double X = 0.6180339887498949, Y = 0.41421356237309515;

	/** The tiles' offset at {@code step} along an axis: the step's place in [0, 1) of the sequence, times the stride. */
	static int offset(int step, int stride, double alpha) {
		if (stride <= 1) return 0;
		double u = (0.5 + alpha * (step + 1)) % 1.0;
		return (int) (u * stride);
	}

	/** The tiles of a step, with their weights. */
	private List<Tile> layout(int step) {
		List<int[]> xs = spans(latentW, tileW, overlap, step, X), ys = spans(latentH, tileH, overlap, step, Y);
		List<Tile> tiles = new ArrayList<>();
		for (int[] ty : ys) {
			float[] wy = TiledVae.ramp(tileH, ty[2], ty[3]);
			for (int[] tx : xs) {
				float[] wx = TiledVae.ramp(tileW, tx[2], tx[3]);
				float[] w = new float[tileW * tileH];
				for (int y = 0; y < tileH; y++) {
					for (int x = 0; x < tileW; x++) w[y * tileW + x] = wx[x] * wy[y];
				}
				tiles.add(new Tile(tx[0], ty[0], w));
			}
		}
		return tiles;
	}

	@Override
	public void runsSteps(int first, int total) {
		firstStep = first;
		totalSteps = total;
		runner.runsSteps(first, total);
	}

	@Override
	public float[] predict(int step, double t, float[] latentInput, boolean last, Cancellation cancellation)
		throws OrtException
	{
		List<Tile> tiles = layout(step);
		float[] sum = new float[latentInput.length];
		float[] weights = new float[latentW * latentH];
		int extra = extraChannels == null ? 0 : extraChannels.length / (latentW * latentH);
		for (int k = 0; k < tiles.size(); k++) {
			// a tile is short, but a large image has many: stop between them too
			if (progress.isCanceled() || cancellation.isCancelled()) throw new Cancellation.CancelledException(null);
			if (totalSteps > 0) {
				progress.status("step " + (step - firstStep + 1) + "/" + (totalSteps - firstStep) + ", tile " + (k + 1)
					+ "/" + tiles.size());
			}
			Tile tile = tiles.get(k);
			if (extraChannels != null) runner.extraChannels(crop(extraChannels, extra, tile));
			runner.window(new UnetInput.Window(tile.x, tile.y, latentW, latentH)); // a ControlNet crops its image
			float[] prediction = runner.predict(step, t, crop(latentInput, images * 4, tile),
				last && k == tiles.size() - 1, cancellation);
			add(prediction, images * 4, tile, sum, weights);
		}
		int plane = latentW * latentH;
		for (int j = 0; j < sum.length; j++) sum[j] /= weights[j % plane];
		return sum;
	}

	/** The tile of {@code planes} stacked planes of the latent's size. */
	private float[] crop(float[] planesOfLatent, int planes, Tile tile) {
		float[] out = new float[planes * tileW * tileH];
		for (int p = 0; p < planes; p++) {
			for (int y = 0; y < tileH; y++) {
				System.arraycopy(planesOfLatent, (p * latentH + tile.y + y) * latentW + tile.x, out,
					(p * tileH + y) * tileW, tileW);
			}
		}
		return out;
	}

	/** Adds a tile's {@code planes} planes, weighted, into the latent-sized {@code sum}, and its weights to {@code weights}. */
	private void add(float[] tilePlanes, int planes, Tile tile, float[] sum, float[] weights) {
		for (int y = 0; y < tileH; y++) {
			for (int x = 0; x < tileW; x++) weights[(tile.y + y) * latentW + tile.x + x] += tile.weights[y * tileW + x];
		}
		for (int p = 0; p < planes; p++) {
			for (int y = 0; y < tileH; y++) {
				int from = (p * tileH + y) * tileW, to = (p * latentH + tile.y + y) * latentW + tile.x;
				for (int x = 0; x < tileW; x++) sum[to + x] += tile.weights[y * tileW + x] * tilePlanes[from + x];
			}
		}
	}

	@Override
	public void close() {
		runner.close();
	}
}
