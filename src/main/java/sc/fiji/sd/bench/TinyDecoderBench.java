package sc.fiji.sd.bench;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;

import net.imglib2.img.Img;
import net.imglib2.type.numeric.real.FloatType;

import sc.fiji.sd.image.ImageTensors;
import sc.fiji.sd.model.StableDiffusionModel;
import sc.fiji.sd.model.TinyDecoder;
import sc.fiji.sd.pipeline.GenerationRequest;
import sc.fiji.sd.pipeline.ProgressListener;
import sc.fiji.sd.pipeline.StableDiffusionPipeline;
import sc.fiji.sd.pipeline.StepProgress;

/**
 * The tiny decoder against the model's VAE decoder: decode time on the same latents, and how close its images are
 * (PSNR on the [0, 1] scale) on latents of real generations.
 */
public final class TinyDecoderBench {

	/** Prompts for the PSNR: the embedded model's vocabulary (colours, shapes, backgrounds). */
	static final String[] PROMPTS = { "a red circle on a blue background", "a green square on a white background",
		"a yellow triangle on a black background", "a blue star on a yellow background",
		"a white circle on a green background", "a black square on a red background" };

	private TinyDecoderBench() {}

	/** Median seconds of {@code runs} decodes (after one warm-up) of the same random latents by each decoder. */
	public record Timing(int width, int height, double vaeSeconds, double tinySeconds) {

		public String format() {
			return String.format(Locale.ROOT, "Decode %dx%d: VAE decoder %.2f s, tiny decoder %.3f s (%.1fx faster)",
				width, height, vaeSeconds, tinySeconds, vaeSeconds / tinySeconds);
		}
	}

	public static Timing time(StableDiffusionModel model, TinyDecoder tiny, int width, int height, int runs) {
		int lw = width / 8, lh = height / 8;
		float[] latents = new float[4 * lw * lh];
		Random random = new Random(1);
		for (int i = 0; i < latents.length; i++)
			latents[i] = (float) random.nextGaussian();
		StableDiffusionPipeline vae = new StableDiffusionPipeline(model);
		double[] v = new double[runs], t = new double[runs];
		vae.decodeLatents(latents, 0, width, height);
		tiny.decode(latents, 0, lw, lh);
		for (int r = 0; r < runs; r++) {
			long start = System.nanoTime();
			vae.decodeLatents(latents, 0, width, height);
			v[r] = (System.nanoTime() - start) / 1e9;
			start = System.nanoTime();
			tiny.decode(latents, 0, lw, lh);
			t[r] = (System.nanoTime() - start) / 1e9;
		}
		return new Timing(width, height, median(v), median(t));
	}

	/**
	 * PSNR (dB, images in [0, 1]) of the tiny decoder's image against the VAE decoder's, for the final latents of
	 * {@code images} generations ({@link #PROMPTS} in turn, seeds 0, 1, …, {@code steps} steps at the native size).
	 *
	 * @return one value per image
	 */
	public static double[] psnr(StableDiffusionModel model, TinyDecoder tiny, int images, int steps) {
		StableDiffusionPipeline pipeline = new StableDiffusionPipeline(model);
		int size = model.info().nativeSize();
		double[] psnr = new double[images];
		for (int i = 0; i < images; i++) {
			List<float[]> last = new ArrayList<>(1);
			ProgressListener keep = p -> {
				last.clear();
				last.add(p.latents());
			};
			pipeline.generate(GenerationRequest.builder().prompt(PROMPTS[i % PROMPTS.length]).steps(steps).seed(i)
				.size(size, size).build(), keep);
			float[] latents = last.get(0);
			Img<FloatType> full = pipeline.decodeLatents(latents, 0, size, size);
			Img<FloatType> fast = ImageTensors.fromNchw(tiny.decode(latents, 0, size / 8, size / 8), 0, size, size);
			psnr[i] = psnr(full, fast);
		}
		return psnr;
	}

	/** PSNR in dB of two images of the same size in [0, 1]. */
	static double psnr(Img<FloatType> a, Img<FloatType> b) {
		var ca = a.cursor();
		var cb = b.cursor();
		double sum = 0;
		long n = 0;
		while (ca.hasNext()) {
			double d = ca.next().get() - cb.next().get();
			sum += d * d;
			n++;
		}
		return 10 * Math.log10(1 / Math.max(sum / n, 1e-12));
	}

	static double median(double[] values) {
		double[] sorted = values.clone();
		Arrays.sort(sorted);
		int n = sorted.length;
		return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
	}

	/** Both measurements as a report; PSNR only when {@code psnrImages} > 0. */
	public static String run(StableDiffusionModel model, TinyDecoder tiny, int width, int height, int runs,
		int psnrImages, int steps, PrintWriter err)
	{
		err.println("Timing the decoders at " + width + "x" + height + "...");
		err.flush();
		StringBuilder sb = new StringBuilder(time(model, tiny, width, height, runs).format());
		if (psnrImages > 0) {
			err.println("Generating " + psnrImages + " images for the PSNR...");
			err.flush();
			double[] p = psnr(model, tiny, psnrImages, steps);
			sb.append(String.format(Locale.ROOT, "%nTiny decoder vs VAE decoder on %d generated images (%d steps): "
				+ "PSNR mean %.2f dB, min %.2f dB", p.length, steps, Arrays.stream(p).average().orElse(0), Arrays
					.stream(p).min().orElse(0)));
		}
		return sb.toString();
	}
}
