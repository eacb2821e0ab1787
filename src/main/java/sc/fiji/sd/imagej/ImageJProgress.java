package sc.fiji.sd.imagej;

import java.awt.GraphicsEnvironment;
import java.util.Locale;

import ij.IJ;
import ij.ImagePlus;
import ij.macro.Interpreter;
import sc.fiji.sd.image.LatentPreview;
import sc.fiji.sd.pipeline.ProgressListener;
import sc.fiji.sd.pipeline.StepProgress;

/**
 * Shows a generation's progress the ImageJ way: "step i/n, s/step" in the status bar, the progress bar, Esc to stop
 * (between steps; the last finished image is kept), and optionally a live preview window.
 * <p>
 * A run may span several input slices; {@link #startPart} tells which one is running so the bar covers them all.
 */
public class ImageJProgress implements ProgressListener {

	static final String PREVIEW_TITLE = "Stable Diffusion preview";

	private final boolean preview;
	private int part, parts = 1;
	private ImagePlus previewWindow;
	private StepProgress decodedStep; // the last step the tiny decoder previewed
	private volatile boolean canceled; // also set from the pipeline's cancel watch thread

	/**
	 * @param preview show a live preview window (skipped headless and in batch-mode macros, where a window would
	 *          become the macro's current image)
	 */
	public ImageJProgress(boolean preview) {
		this.preview = preview && !GraphicsEnvironment.isHeadless() && !Interpreter.isBatchMode();
		IJ.resetEscape();
	}

	/** The run works on part {@code index} (from 0) of {@code count} (e.g. slices of a stack). */
	public void startPart(int index, int count) {
		part = index;
		parts = count;
	}

	@Override
	public void stepFinished(StepProgress p) {
		IJ.showStatus(statusLine(p));
		long total = (long) parts * p.images() * p.steps();
		long done = ((long) part * p.images() + p.image()) * p.steps() + p.step();
		IJ.showProgress(done / (double) total);
		// a step the tiny decoder previewed is shown already, at full size and in true colours
		if (preview && shouldRefreshPreview(p) && p != decodedStep) showPreview(p);
	}

	@Override
	public boolean wantsPreview(StepProgress p) {
		return preview && shouldRefreshPreview(p);
	}

	@Override
	public void preview(StepProgress p, net.imglib2.img.Img<net.imglib2.type.numeric.real.FloatType> rgb) {
		decodedStep = p;
		show(ImagePlusConverter.toColorProcessor(rgb));
	}

	String statusLine(StepProgress p) {
		String image = p.images() * parts > 1
			? String.format(Locale.ROOT, "image %d/%d, ", part * p.images() + p.image() + 1, parts * p.images()) : "";
		return String.format(Locale.ROOT, "Stable Diffusion: %sstep %d/%d, %.2f s/step (Esc stops)", image, p.step(),
			p.steps(), p.secondsPerStep());
	}

	/** About ten preview updates per image, and always the last step. */
	static boolean shouldRefreshPreview(StepProgress p) {
		int every = Math.max(1, p.steps() / 10);
		return p.step() % every == 0 || p.step() == p.steps();
	}

	private void showPreview(StepProgress p) {
		try {
			// The predicted clean image (x0) shows where the run is heading; schedulers without one give the latents.
			float[] latents = p.predictedOriginal() != null ? p.predictedOriginal() : p.latents();
			show(ImagePlusConverter.toColorProcessor(LatentPreview.toRgb(latents, p.latentShape(), 0, 8)));
		}
		catch (IllegalArgumentException e) {
			// Not a 4-channel latent space (the approximation is for SD 1.x/2.x): no preview, no failure.
		}
	}

	private void show(ij.process.ImageProcessor ip) {
		if (previewWindow == null || previewWindow.getWindow() == null) {
			previewWindow = new ImagePlus(PREVIEW_TITLE, ip);
			previewWindow.show();
		}
		else previewWindow.setProcessor(ip);
	}

	@Override
	public boolean isCanceled() {
		if (IJ.escapePressed()) canceled = true;
		return canceled;
	}

	/** True when the user pressed Esc during the run. */
	public boolean wasCanceled() {
		return canceled;
	}

	@Override
	public void status(String message) {
		IJ.showStatus("Stable Diffusion: " + message);
	}

	/** Clears the bar and closes the preview window. */
	public void finish(String message) {
		IJ.showProgress(1.0);
		IJ.showStatus(message);
		if (previewWindow != null) previewWindow.close();
	}
}
