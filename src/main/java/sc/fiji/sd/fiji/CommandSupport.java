package sc.fiji.sd.fiji;

import java.awt.GraphicsEnvironment;

import org.scijava.Cancelable;
import org.scijava.log.LogService;

import ij.IJ;
import ij.ImagePlus;
import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.imagej.ControlImages;
import sc.fiji.sd.imagej.Generation;
import sc.fiji.sd.imagej.ImageJProgress;
import sc.fiji.sd.imagej.Parameters;

/** What the Fiji commands share: run the common {@link Generation} path and report problems the SciJava way. */
final class CommandSupport {

	static final String TITLE = "Stable Diffusion";

	private CommandSupport() {}

	/**
	 * Runs a generation for a command; on a user error the command is cancelled with the message (shown in Fiji,
	 * logged headless) and null is returned.
	 */
	static ImagePlus generate(Cancelable command, StableDiffusionService sd, LogService log, Parameters p,
		ImagePlus input) {
		ImageJProgress progress = new ImageJProgress(p.preview);
		try {
			Generation.checkInput(p.mode, p.outpaint(), input);
			ControlImages.check(p, input); // before the model (and its ControlNet) loads
			// One generation at a time (a second one waits): both would share, and could release, the one model.
			Generation.Outcome outcome = sd.models().exclusively(() -> new Generation(sd.generator(p)).run(p, input,
				progress));
			if (outcome.interrupted()) log.info("Stable Diffusion: stopped (Esc); kept the last finished image.");
			return outcome.image();
		}
		catch (StableDiffusionException e) {
			fail(command, log, e.getMessage());
			return null;
		}
		finally {
			progress.finish("");
		}
	}

	/** Cancels the command with a message for the user. */
	static void fail(Cancelable command, LogService log, String message) {
		log.error(TITLE + ": " + message);
		if (!GraphicsEnvironment.isHeadless()) IJ.error(TITLE, message);
		command.cancel(message);
	}
}
