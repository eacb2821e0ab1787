package sc.fiji.sd.pipeline;

import java.util.List;

/**
 * What a generation produced.
 *
 * @param images the images in order (batch count × batch size); when interrupted, those finished plus the image
 *          decoded from the last finished step
 * @param interrupted true when the run was cancelled before it finished
 * @param seconds wall time of the whole run
 */
public record GenerationResult(List<GeneratedImage> images, boolean interrupted, double seconds) {}
