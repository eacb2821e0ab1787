package sc.fiji.sd.fiji;

import org.scijava.ItemIO;
import org.scijava.command.ContextCommand;
import org.scijava.log.LogService;
import org.scijava.plugin.Parameter;

import ij.ImagePlus;
import sc.fiji.sd.ij1.Parameters;

/**
 * What the generation commands (Text to Image, Image to Image, Inpaint) share besides their inputs: the services, the
 * result output and the run through the shared code path.
 * <p>
 * The inputs stay in each command on purpose: SciJava lists a superclass's {@code @Parameter} fields before the
 * subclass's, so inputs moved here would move to the top of the dialog and of recorded macro lines (the image and
 * the strength would come after the model and device).
 */
abstract class GenerationCommand extends ContextCommand {

	@Parameter
	private StableDiffusionService sd;

	@Parameter
	private LogService log;

	@Parameter(type = ItemIO.OUTPUT)
	private ImagePlus result;

	/**
	 * Runs the generation and sets the result (null, with the command cancelled with the message, on a user error).
	 *
	 * @return the seed actually used, for the command to write back into its {@code seed} input before the macro
	 *         recorder (a post-processor) records it
	 */
	long generate(Parameters p, ImagePlus input) {
		result = CommandSupport.generate(this, sd, log, p, input);
		return p.seed;
	}
}
