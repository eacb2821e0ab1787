package sc.fiji.sd.ij1;

import java.awt.GraphicsEnvironment;
import java.awt.HeadlessException;
import java.io.PrintWriter;
import java.io.StringWriter;

import ij.IJ;
import ij.ImagePlus;
import ij.Macro;
import ij.WindowManager;
import ij.macro.Interpreter;
import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.imagej.Generation;
import sc.fiji.sd.imagej.Generators;
import sc.fiji.sd.imagej.ImageJModels;
import sc.fiji.sd.imagej.ImageJProgress;
import sc.fiji.sd.imagej.Parameters;
import sc.fiji.sd.imagej.Settings;
import sc.fiji.sd.model.ModelProvider;
import sc.fiji.sd.pipeline.GenerationRequest.Mode;

/**
 * What every ImageJ 1 menu command does around the shared {@link Generation}: take the active image, ask, run,
 * show the result, and turn failures into messages (under a macro, {@code IJ.error} aborts the macro with the
 * message instead of hanging on a dialog).
 */
final class Plugins {

	static final String TITLE = "Stable Diffusion";

	private Plugins() {}

	static void runCommand(Mode mode) {
		runCommand(mode, false);
	}

	/** {@code outpaint}: Outpaint..., an inpainting of the extended canvas (needs an image, no selection). */
	static void runCommand(Mode mode, boolean outpaint) {
		try {
			ImagePlus input = mode == Mode.TEXT_TO_IMAGE ? null : WindowManager.getCurrentImage();
			Generation.checkInput(mode, outpaint, input); // say it before the dialog, not after
			Parameters p = Dialogs.ask(mode, input, outpaint);
			if (p == null) return;
			ImageJProgress progress = new ImageJProgress(p.preview);
			Generation.Outcome outcome;
			try {
				ModelProvider models = ImageJModels.provider();
				outcome = models.exclusively(() -> new Generation(Generators.open(models, Generators.forRun(Settings
					.load(), p), p)).run(p, input, progress)); // one generation at a time: they share the one loaded model
			}
			finally {
				progress.finish("");
			}
			if (outcome.image() != null) outcome.image().show();
			IJ.showStatus(outcome.interrupted() ? "Stable Diffusion: stopped (Esc); kept the last finished image."
				: "Stable Diffusion: done (seed " + p.seed + ")");
		}
		catch (StableDiffusionException e) {
			userError(e.getMessage());
		}
		catch (HeadlessException e) {
			userError("The ImageJ 1.x dialogs need a display. Run macros under a virtual one (xvfb-run java -jar "
				+ "ij.jar -batch macro.ijm), or use Fiji's --headless mode.");
		}
		catch (RuntimeException | LinkageError e) {
			if (Macro.MACRO_CANCELED.equals(e.getMessage())) throw e;
			internalError(e);
		}
	}

	/**
	 * Tells the user what is wrong. Interactively and in a macro with ImageJ's window: IJ.error, which also ends the
	 * macro. In a macro without ImageJ's window ({@code ij.jar -batch}), the macro interpreter would show its error
	 * as a dialog that nobody can click away, so the message is printed and the macro ended without one.
	 */
	static void userError(String message) {
		if (IJ.getInstance() == null && Interpreter.getInstance() != null && !GraphicsEnvironment.isHeadless()) {
			IJ.log(TITLE + ": " + message);
			Interpreter.abort();
		}
		else IJ.error(TITLE, message);
	}

	/** A bug or an environment problem: the message for the user, the stack trace in the Log window. */
	static void internalError(Throwable e) {
		StringWriter trace = new StringWriter();
		e.printStackTrace(new PrintWriter(trace));
		IJ.log(trace.toString());
		String hint = e instanceof UnsatisfiedLinkError
			? " Another plugin may have loaded a different ONNX Runtime version into this Fiji; restart Fiji and run "
				+ "Stable Diffusion first."
			: "";
		userError("Something went wrong inside Stable Diffusion: " + e + "." + hint
			+ " The details are in the Log window; please include them when reporting the problem.");
	}
}
